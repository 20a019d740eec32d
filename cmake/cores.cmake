# The plain cores: the decisions and pure pieces outside messages/ that use no CAF,
# Pistache, libpqxx or librdkafka. They build into one library (fs_cores) that the
# service and the unit tests link; the fuzz tree (test/fuzz) builds the same list.
# Paths are relative to the source root; a new core goes here and nowhere else.
set(FLASHSALE_CORE_SOURCES
  actors/saga/offset_tracker.cpp
  actors/saga/saga_pipeline.cpp
  actors/saga/shard_handoff.cpp
  actors/order/order_decisions.cpp
  actors/order/held_events.cpp
  actors/outbox/relay_batch.cpp
  actors/cluster/shard_ownership.cpp
  metrics/metrics.cpp
  http/routes.cpp
  http/connection.cpp
  http/requests.cpp
  http/adaptive_limit.cpp
  kafka/dlq_copy.cpp
  kafka/dlq_redrive_plan.cpp
  app/config.cpp)

# flashsale_core_sources(OUT ROOT): the list with ROOT/ in front of each path.
function(flashsale_core_sources out root)
  set(list)
  foreach(src ${FLASHSALE_CORE_SOURCES})
    list(APPEND list ${root}/${src})
  endforeach()
  set(${out} ${list} PARENT_SCOPE)
endfunction()

# flashsale_drop_cores(VAR ROOT): removes the cores from a globbed source list.
function(flashsale_drop_cores var root)
  set(list ${${var}})
  foreach(src ${FLASHSALE_CORE_SOURCES})
    list(REMOVE_ITEM list ${root}/${src})
  endforeach()
  set(${var} ${list} PARENT_SCOPE)
endfunction()
