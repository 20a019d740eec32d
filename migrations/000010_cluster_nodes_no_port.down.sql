DELETE FROM cluster_nodes WHERE caf_port = 0;
ALTER TABLE cluster_nodes DROP CONSTRAINT cluster_nodes_caf_port_check;
ALTER TABLE cluster_nodes ADD CONSTRAINT cluster_nodes_caf_port_check
    CHECK (caf_port BETWEEN 1 AND 65535);
