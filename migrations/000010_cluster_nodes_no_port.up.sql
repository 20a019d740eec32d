-- A node opens no cluster port unless CLUSTER_TLS_* or CLUSTER_INSECURE=1 asks for one
-- (CONTRACT §7). Such a node still beats in cluster_nodes, with caf_port 0: the others
-- then know it is live and that it cannot be a peer (actors/cluster.cpp refuses to start
-- a node with a port beside it, and it refuses to start beside any other node).
ALTER TABLE cluster_nodes DROP CONSTRAINT cluster_nodes_caf_port_check;
ALTER TABLE cluster_nodes ADD CONSTRAINT cluster_nodes_caf_port_check
    CHECK (caf_port BETWEEN 0 AND 65535);
