complete -c etcd -s n -l name -d 'The name of this machine in the cluster [default: hostname]' -r
complete -c etcd -s d -l data-dir -d 'Directory for the log, snapshots and configuration [default: <name>.etcd]' -r -F
complete -c etcd -s c -l addr -d 'Advertised client address, host:port (a URL is accepted too)' -r
complete -c etcd -l bind-addr -d 'Address the client port listens on [default: the host:port of -addr]' -r
complete -c etcd -s s -l peer-addr -d 'Advertised peer address, host:port (a URL is accepted too)' -r
complete -c etcd -l peer-bind-addr -d 'Address the peer port listens on [default: the host:port of -peer-addr]' -r
complete -c etcd -s C -l peers -d 'Comma-separated peer addresses to join (host:port,...)' -r
complete -c etcd -l peers-file -d 'File holding the comma-separated peer list' -r -F
complete -c etcd -l cert-file -d 'Client TLS certificate (PEM)' -r -F
complete -c etcd -l key-file -d 'Client TLS key (PEM)' -r -F
complete -c etcd -l ca-file -d 'CA that client certificates must be signed by (PEM)' -r -F
complete -c etcd -l client-cert-auth -d 'etcd 2.x\'s switch for client certificates, accepted as given with -ca-file, which already requires them here (and makes a certificate\'s CN a v2 auth user)' -r -f -a "true\t''
false\t''"
complete -c etcd -l peer-cert-file -d 'Peer TLS certificate (PEM)' -r -F
complete -c etcd -l peer-key-file -d 'Peer TLS key (PEM)' -r -F
complete -c etcd -l peer-ca-file -d 'CA that peer certificates must be signed by (PEM)' -r -F
complete -c etcd -l peer-client-cert-auth -d 'The same as -client-cert-auth for the peer port, with -peer-ca-file' -r -f -a "true\t''
false\t''"
complete -c etcd -l generate -d 'Print shell completions (bash, zsh, fish) or the man page (man) and exit' -r -f -a "bash\t''
zsh\t''
fish\t''
man\t''"
complete -c etcd -l cors -d 'Comma-separated origins allowed for CORS (`*` for any)' -r
complete -c etcd -l snapshot -d 'Accepted for etcd 0.2 compatibility: snapshots are always on' -r
complete -c etcd -l snapshot-count -d 'Applied entries between store snapshots (and log compactions)' -r
complete -c etcd -l peer-heartbeat-timeout -d 'Raft heartbeat interval in milliseconds' -r
complete -c etcd -l peer-election-timeout -d 'Raft election timeout in milliseconds' -r
complete -c etcd -l history-size -d 'Events kept for watchers with waitIndex (etcd keeps 1000)' -r
complete -c etcd -l max-cluster-size -d 'Maximum cluster size (accepted for etcd 0.2 compatibility)' -r
complete -c etcd -l max-result-buffer -d 'Accepted for etcd 0.2 compatibility' -r
complete -c etcd -l max-retry-attempts -d 'Accepted for etcd 0.2 compatibility' -r
complete -c etcd -l config -d 'etcd 0.2\'s TOML configuration file; flags and ETCD_* variables override it [default: /etc/etcd/etcd.conf when it exists]' -r -F
complete -c etcd -s f -l force -d 'Force a new configuration: discard the data dir\'s existing state (data loss!)'
complete -c etcd -l force-new-cluster -d 'Recovery after losing quorum: start this data dir (a member\'s, or a copy made by `etcdctl backup`) as a new one-member cluster holding every key committed in it, with a new cluster id; others then join it with -peers. Uncommitted entries are dropped. A one-time rewrite: started with it again, a member still alone is left as it is, but once others have joined it would drop them again; remove the flag once it runs'
complete -c etcd -l local-reads -d 'Answer GETs without `quorum=true` from this member\'s store, as etcd\'s v2 API does: faster, and a member cut off from the others still answers, but the answer may be stale. Without it every GET is linearizable (a ReadIndex round, batched per turn)'
complete -c etcd -s v -l verbose -d 'Verbose logging'
complete -c etcd -l vv -d 'Very verbose logging'
complete -c etcd -s h -l help -d 'Print help'
complete -c etcd -s V -l version -d 'Print version'
