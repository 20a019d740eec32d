DROP TABLE early_events;
