# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_etcdctl_global_optspecs
    string join \n endpoints= C/peers= endpoint= o/output= no-sync debug timeout= total-timeout= cert-file= key-file= ca-file= u/username= h/help V/version
end

function __fish_etcdctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_etcdctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_etcdctl_using_subcommand
    set -l cmd (__fish_etcdctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c etcdctl -n "__fish_etcdctl_needs_command" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_needs_command" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_needs_command" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_needs_command" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_needs_command" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_needs_command" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_needs_command" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_needs_command" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_needs_command" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_needs_command" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_needs_command" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_needs_command" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_needs_command" -s V -l version -d 'Print version'
complete -c etcdctl -n "__fish_etcdctl_needs_command" -f -a "set" -d 'Set the value of a key (the value is read from stdin when omitted)'
complete -c etcdctl -n "__fish_etcdctl_needs_command" -f -a "mk" -d 'Make a new key, failing if it exists (the value is read from stdin when omitted)'
complete -c etcdctl -n "__fish_etcdctl_needs_command" -f -a "mkdir" -d 'Make a new directory, failing if it exists'
complete -c etcdctl -n "__fish_etcdctl_needs_command" -f -a "setdir" -d 'Create a directory, or fail if a key or directory of that name exists'
complete -c etcdctl -n "__fish_etcdctl_needs_command" -f -a "update" -d 'Update an existing key (the value is read from stdin when omitted)'
complete -c etcdctl -n "__fish_etcdctl_needs_command" -f -a "updatedir" -d 'Update the TTL of an existing directory'
complete -c etcdctl -n "__fish_etcdctl_needs_command" -f -a "get" -d 'Print the value of a key'
complete -c etcdctl -n "__fish_etcdctl_needs_command" -f -a "rm" -d 'Remove a key or a directory'
complete -c etcdctl -n "__fish_etcdctl_needs_command" -f -a "rmdir" -d 'Remove an empty directory'
complete -c etcdctl -n "__fish_etcdctl_needs_command" -f -a "ls" -d 'List a directory'
complete -c etcdctl -n "__fish_etcdctl_needs_command" -f -a "watch" -d 'Wait for a change to a key and print it'
complete -c etcdctl -n "__fish_etcdctl_needs_command" -f -a "exec-watch" -d 'Run a command each time a key changes'
complete -c etcdctl -n "__fish_etcdctl_needs_command" -f -a "member" -d 'Cluster membership: list, add, remove'
complete -c etcdctl -n "__fish_etcdctl_needs_command" -f -a "user" -d 'Users of etcd\'s auth: add, get, list, remove, grant, revoke, passwd'
complete -c etcdctl -n "__fish_etcdctl_needs_command" -f -a "role" -d 'Roles of etcd\'s auth: add, get, list, remove, grant, revoke'
complete -c etcdctl -n "__fish_etcdctl_needs_command" -f -a "auth" -d 'Turn etcd\'s auth on or off'
complete -c etcdctl -n "__fish_etcdctl_needs_command" -f -a "cluster-health" -d 'Check the health of every member'
complete -c etcdctl -n "__fish_etcdctl_needs_command" -f -a "export" -d 'Print a subtree (keys, values, directories, TTLs) as JSON on stdout'
complete -c etcdctl -n "__fish_etcdctl_needs_command" -f -a "import" -d 'Recreate a tree written by `export` (TTLs preserved), with parallel requests'
complete -c etcdctl -n "__fish_etcdctl_needs_command" -f -a "backup" -d 'Copy a member\'s data dir (while it runs) into a backup that `etcd -data-dir <backup> -force-new-cluster` starts as a new one-member cluster'
complete -c etcdctl -n "__fish_etcdctl_needs_command" -f -a "completion" -d 'Print a shell completion script'
complete -c etcdctl -n "__fish_etcdctl_needs_command" -f -a "man" -d 'Print the man page (roff), or write one page per command into a directory'
complete -c etcdctl -n "__fish_etcdctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand set" -l ttl -d 'Time to live in seconds (0 or none: never expire)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand set" -l swap-with-value -d 'Only set if the current value is this' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand set" -l swap-with-index -d 'Only set if the current modifiedIndex is this' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand set" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand set" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand set" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand set" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand set" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand set" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand set" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand set" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand set" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand set" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand set" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand set" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mk" -l ttl -d 'Time to live in seconds (0 or none: never expire)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mk" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mk" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mk" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mk" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mk" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mk" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mk" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mk" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mk" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mk" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mk" -l in-order -d 'Create a key with a unique, increasing name inside the directory'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mk" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mk" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mk" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mkdir" -l ttl -d 'Time to live in seconds (0 or none: never expire)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mkdir" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mkdir" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mkdir" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mkdir" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mkdir" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mkdir" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mkdir" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mkdir" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mkdir" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mkdir" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mkdir" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mkdir" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand mkdir" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand setdir" -l ttl -d 'Time to live in seconds (0 or none: never expire)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand setdir" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand setdir" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand setdir" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand setdir" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand setdir" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand setdir" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand setdir" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand setdir" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand setdir" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand setdir" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand setdir" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand setdir" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand setdir" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand update" -l ttl -d 'Time to live in seconds (0 or none: never expire)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand update" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand update" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand update" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand update" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand update" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand update" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand update" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand update" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand update" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand update" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand update" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand update" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand update" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand updatedir" -l ttl -d 'Time to live in seconds (0 or none: never expire)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand updatedir" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand updatedir" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand updatedir" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand updatedir" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand updatedir" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand updatedir" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand updatedir" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand updatedir" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand updatedir" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand updatedir" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand updatedir" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand updatedir" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand updatedir" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand get" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand get" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand get" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand get" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand get" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand get" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand get" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand get" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand get" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand get" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand get" -l sort -d 'Sort the result'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand get" -s q -l quorum -d 'Read through the leader (a linearizable read)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand get" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand get" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rm" -l with-value -d 'Only remove if the current value is this' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rm" -l with-index -d 'Only remove if the current modifiedIndex is this' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rm" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rm" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rm" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rm" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rm" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rm" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rm" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rm" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rm" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rm" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rm" -l dir -d 'Remove an empty directory too'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rm" -s r -l recursive -d 'Remove a directory and everything in it'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rm" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rm" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rm" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rmdir" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rmdir" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rmdir" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rmdir" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rmdir" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rmdir" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rmdir" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rmdir" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rmdir" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rmdir" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rmdir" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rmdir" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand rmdir" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand ls" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand ls" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand ls" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand ls" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand ls" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand ls" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand ls" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand ls" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand ls" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand ls" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand ls" -s r -l recursive -d 'List everything below'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand ls" -l sort -d 'Sort the listing'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand ls" -s p -d 'Append / to directories'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand ls" -s q -l quorum -d 'Read through the leader (a linearizable read)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand ls" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand ls" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand ls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand watch" -l after-index -d 'Watch from just after this index (0: from now)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand watch" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand watch" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand watch" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand watch" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand watch" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand watch" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand watch" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand watch" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand watch" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand watch" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand watch" -s f -l forever -d 'Keep watching'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand watch" -s r -l recursive -d 'Watch everything below the key'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand watch" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand watch" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand watch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand exec-watch" -l after-index -d 'Watch from just after this index (0: from now)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand exec-watch" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand exec-watch" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand exec-watch" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand exec-watch" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand exec-watch" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand exec-watch" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand exec-watch" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand exec-watch" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand exec-watch" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand exec-watch" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand exec-watch" -s r -l recursive -d 'Watch everything below the key'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand exec-watch" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand exec-watch" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand exec-watch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and not __fish_seen_subcommand_from list add remove help" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and not __fish_seen_subcommand_from list add remove help" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and not __fish_seen_subcommand_from list add remove help" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and not __fish_seen_subcommand_from list add remove help" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and not __fish_seen_subcommand_from list add remove help" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and not __fish_seen_subcommand_from list add remove help" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and not __fish_seen_subcommand_from list add remove help" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and not __fish_seen_subcommand_from list add remove help" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and not __fish_seen_subcommand_from list add remove help" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and not __fish_seen_subcommand_from list add remove help" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and not __fish_seen_subcommand_from list add remove help" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and not __fish_seen_subcommand_from list add remove help" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and not __fish_seen_subcommand_from list add remove help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and not __fish_seen_subcommand_from list add remove help" -f -a "list" -d 'List the members'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and not __fish_seen_subcommand_from list add remove help" -f -a "add" -d 'Add a member (then start it with the printed environment)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and not __fish_seen_subcommand_from list add remove help" -f -a "remove" -d 'Remove a member by id'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and not __fish_seen_subcommand_from list add remove help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from list" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from list" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from list" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from list" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from list" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from list" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from list" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from list" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from list" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from list" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from list" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from add" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from add" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from add" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from add" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from add" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from add" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from add" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from add" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from add" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from add" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from add" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from add" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from remove" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from remove" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from remove" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from remove" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from remove" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from remove" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from remove" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from remove" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from remove" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from remove" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from remove" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from remove" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the members'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add a member (then start it with the printed environment)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove a member by id'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand member; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and not __fish_seen_subcommand_from add get list remove grant revoke passwd help" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and not __fish_seen_subcommand_from add get list remove grant revoke passwd help" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and not __fish_seen_subcommand_from add get list remove grant revoke passwd help" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and not __fish_seen_subcommand_from add get list remove grant revoke passwd help" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and not __fish_seen_subcommand_from add get list remove grant revoke passwd help" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and not __fish_seen_subcommand_from add get list remove grant revoke passwd help" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and not __fish_seen_subcommand_from add get list remove grant revoke passwd help" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and not __fish_seen_subcommand_from add get list remove grant revoke passwd help" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and not __fish_seen_subcommand_from add get list remove grant revoke passwd help" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and not __fish_seen_subcommand_from add get list remove grant revoke passwd help" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and not __fish_seen_subcommand_from add get list remove grant revoke passwd help" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and not __fish_seen_subcommand_from add get list remove grant revoke passwd help" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and not __fish_seen_subcommand_from add get list remove grant revoke passwd help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and not __fish_seen_subcommand_from add get list remove grant revoke passwd help" -f -a "add" -d 'Add a user (`name:password`, or the password is asked for)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and not __fish_seen_subcommand_from add get list remove grant revoke passwd help" -f -a "get" -d 'Show a user and its roles'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and not __fish_seen_subcommand_from add get list remove grant revoke passwd help" -f -a "list" -d 'List the users'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and not __fish_seen_subcommand_from add get list remove grant revoke passwd help" -f -a "remove" -d 'Remove a user'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and not __fish_seen_subcommand_from add get list remove grant revoke passwd help" -f -a "grant" -d 'Grant roles to a user'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and not __fish_seen_subcommand_from add get list remove grant revoke passwd help" -f -a "revoke" -d 'Revoke roles from a user'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and not __fish_seen_subcommand_from add get list remove grant revoke passwd help" -f -a "passwd" -d 'Change a user\'s password (asked for on a terminal, else read from stdin)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and not __fish_seen_subcommand_from add get list remove grant revoke passwd help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from add" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from add" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from add" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from add" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from add" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from add" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from add" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from add" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from add" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from add" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from add" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from add" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from get" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from get" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from get" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from get" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from get" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from get" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from get" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from get" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from get" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from get" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from get" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from get" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from list" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from list" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from list" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from list" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from list" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from list" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from list" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from list" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from list" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from list" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from list" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from remove" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from remove" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from remove" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from remove" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from remove" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from remove" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from remove" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from remove" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from remove" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from remove" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from remove" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from remove" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from grant" -l roles -d 'A role to grant (repeat for more)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from grant" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from grant" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from grant" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from grant" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from grant" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from grant" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from grant" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from grant" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from grant" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from grant" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from grant" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from grant" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from grant" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from revoke" -l roles -d 'A role to revoke (repeat for more)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from revoke" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from revoke" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from revoke" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from revoke" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from revoke" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from revoke" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from revoke" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from revoke" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from revoke" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from revoke" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from revoke" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from revoke" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from revoke" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from passwd" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from passwd" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from passwd" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from passwd" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from passwd" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from passwd" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from passwd" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from passwd" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from passwd" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from passwd" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from passwd" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from passwd" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from passwd" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add a user (`name:password`, or the password is asked for)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "get" -d 'Show a user and its roles'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the users'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove a user'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "grant" -d 'Grant roles to a user'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "revoke" -d 'Revoke roles from a user'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "passwd" -d 'Change a user\'s password (asked for on a terminal, else read from stdin)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand user; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and not __fish_seen_subcommand_from add get list remove grant revoke help" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and not __fish_seen_subcommand_from add get list remove grant revoke help" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and not __fish_seen_subcommand_from add get list remove grant revoke help" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and not __fish_seen_subcommand_from add get list remove grant revoke help" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and not __fish_seen_subcommand_from add get list remove grant revoke help" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and not __fish_seen_subcommand_from add get list remove grant revoke help" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and not __fish_seen_subcommand_from add get list remove grant revoke help" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and not __fish_seen_subcommand_from add get list remove grant revoke help" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and not __fish_seen_subcommand_from add get list remove grant revoke help" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and not __fish_seen_subcommand_from add get list remove grant revoke help" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and not __fish_seen_subcommand_from add get list remove grant revoke help" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and not __fish_seen_subcommand_from add get list remove grant revoke help" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and not __fish_seen_subcommand_from add get list remove grant revoke help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and not __fish_seen_subcommand_from add get list remove grant revoke help" -f -a "add" -d 'Add a role'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and not __fish_seen_subcommand_from add get list remove grant revoke help" -f -a "get" -d 'Show a role\'s permissions'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and not __fish_seen_subcommand_from add get list remove grant revoke help" -f -a "list" -d 'List the roles'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and not __fish_seen_subcommand_from add get list remove grant revoke help" -f -a "remove" -d 'Remove a role'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and not __fish_seen_subcommand_from add get list remove grant revoke help" -f -a "grant" -d 'Grant a role access to a path'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and not __fish_seen_subcommand_from add get list remove grant revoke help" -f -a "revoke" -d 'Revoke a role\'s access to a path'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and not __fish_seen_subcommand_from add get list remove grant revoke help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from add" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from add" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from add" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from add" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from add" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from add" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from add" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from add" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from add" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from add" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from add" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from add" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from get" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from get" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from get" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from get" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from get" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from get" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from get" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from get" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from get" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from get" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from get" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from get" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from list" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from list" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from list" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from list" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from list" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from list" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from list" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from list" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from list" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from list" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from list" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from remove" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from remove" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from remove" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from remove" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from remove" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from remove" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from remove" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from remove" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from remove" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from remove" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from remove" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from remove" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from grant" -l path -d 'The key path or prefix pattern (`/foo/*`)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from grant" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from grant" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from grant" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from grant" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from grant" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from grant" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from grant" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from grant" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from grant" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from grant" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from grant" -l read -d 'Read access'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from grant" -l write -d 'Write access'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from grant" -l readwrite -l rw -d 'Read and write access'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from grant" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from grant" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from grant" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from revoke" -l path -d 'The key path or prefix pattern (`/foo/*`)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from revoke" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from revoke" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from revoke" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from revoke" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from revoke" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from revoke" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from revoke" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from revoke" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from revoke" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from revoke" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from revoke" -l read -d 'Read access'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from revoke" -l write -d 'Write access'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from revoke" -l readwrite -l rw -d 'Read and write access'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from revoke" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from revoke" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from revoke" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add a role'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from help" -f -a "get" -d 'Show a role\'s permissions'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the roles'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove a role'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from help" -f -a "grant" -d 'Grant a role access to a path'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from help" -f -a "revoke" -d 'Revoke a role\'s access to a path'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand role; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and not __fish_seen_subcommand_from enable disable help" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and not __fish_seen_subcommand_from enable disable help" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and not __fish_seen_subcommand_from enable disable help" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and not __fish_seen_subcommand_from enable disable help" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and not __fish_seen_subcommand_from enable disable help" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and not __fish_seen_subcommand_from enable disable help" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and not __fish_seen_subcommand_from enable disable help" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and not __fish_seen_subcommand_from enable disable help" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and not __fish_seen_subcommand_from enable disable help" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and not __fish_seen_subcommand_from enable disable help" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and not __fish_seen_subcommand_from enable disable help" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and not __fish_seen_subcommand_from enable disable help" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and not __fish_seen_subcommand_from enable disable help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and not __fish_seen_subcommand_from enable disable help" -f -a "enable" -d 'Turn authentication on (a root user must exist)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and not __fish_seen_subcommand_from enable disable help" -f -a "disable" -d 'Turn authentication off (as root)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and not __fish_seen_subcommand_from enable disable help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from enable" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from enable" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from enable" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from enable" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from enable" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from enable" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from enable" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from enable" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from enable" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from enable" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from enable" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from enable" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from enable" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from disable" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from disable" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from disable" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from disable" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from disable" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from disable" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from disable" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from disable" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from disable" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from disable" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from disable" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from disable" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from disable" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from help" -f -a "enable" -d 'Turn authentication on (a root user must exist)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from help" -f -a "disable" -d 'Turn authentication off (as root)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand auth; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand cluster-health" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand cluster-health" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand cluster-health" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand cluster-health" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand cluster-health" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand cluster-health" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand cluster-health" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand cluster-health" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand cluster-health" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand cluster-health" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand cluster-health" -s f -l forever -d 'Check again every 10 seconds, forever'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand cluster-health" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand cluster-health" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand cluster-health" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand export" -l include-hidden -d 'A hidden key or directory to export too (repeatable)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand export" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand export" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand export" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand export" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand export" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand export" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand export" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand export" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand export" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand export" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand export" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand export" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand import" -l jobs -d 'Requests in flight at once' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand import" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand import" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand import" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand import" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand import" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand import" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand import" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand import" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand import" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand import" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand import" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand import" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand backup" -l data-dir -d 'The member\'s data dir' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand backup" -l backup-dir -d 'Where to write the backup (a new or empty directory)' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand backup" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand backup" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand backup" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand backup" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand backup" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand backup" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand backup" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand backup" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand backup" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand backup" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand backup" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand backup" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand backup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand completion" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand completion" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand completion" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand completion" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand completion" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand completion" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand completion" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand completion" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand completion" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand completion" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand completion" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand completion" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand completion" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand man" -l dir -d 'Write etcdctl.1 and etcdctl-<command>.1 into this directory instead' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand man" -l endpoints -d 'Comma-separated machine addresses' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand man" -s C -l peers -d 'Deprecated alias of --endpoints' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand man" -l endpoint -d 'Deprecated alias of --endpoints (one address)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand man" -s o -l output -d 'Output format' -r -f -a "simple\t'Values only'
extended\t'Key, indexes and TTL, then the value'
json\t'The response as one line of JSON (the Go etcdctl\'s fields)'"
complete -c etcdctl -n "__fish_etcdctl_using_subcommand man" -l timeout -d 'Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand man" -l total-timeout -d 'Time allowed for the whole command, endpoint retries included (watches excepted)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand man" -l cert-file -d 'Client certificate (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand man" -l key-file -d 'Client private key (PEM) for TLS' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand man" -l ca-file -d 'CA bundle (PEM) that signed the servers\' certificates' -r -F
complete -c etcdctl -n "__fish_etcdctl_using_subcommand man" -s u -l username -d 'Authenticate as `user[:password]` (the password is asked for when left out)' -r
complete -c etcdctl -n "__fish_etcdctl_using_subcommand man" -l no-sync -d 'Use the given endpoints only; do not ask /v2/members for the cluster\'s client URLs'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand man" -l debug -d 'Print each HTTP request (as a curl command) on stderr'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and not __fish_seen_subcommand_from set mk mkdir setdir update updatedir get rm rmdir ls watch exec-watch member user role auth cluster-health export import backup completion man help" -f -a "set" -d 'Set the value of a key (the value is read from stdin when omitted)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and not __fish_seen_subcommand_from set mk mkdir setdir update updatedir get rm rmdir ls watch exec-watch member user role auth cluster-health export import backup completion man help" -f -a "mk" -d 'Make a new key, failing if it exists (the value is read from stdin when omitted)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and not __fish_seen_subcommand_from set mk mkdir setdir update updatedir get rm rmdir ls watch exec-watch member user role auth cluster-health export import backup completion man help" -f -a "mkdir" -d 'Make a new directory, failing if it exists'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and not __fish_seen_subcommand_from set mk mkdir setdir update updatedir get rm rmdir ls watch exec-watch member user role auth cluster-health export import backup completion man help" -f -a "setdir" -d 'Create a directory, or fail if a key or directory of that name exists'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and not __fish_seen_subcommand_from set mk mkdir setdir update updatedir get rm rmdir ls watch exec-watch member user role auth cluster-health export import backup completion man help" -f -a "update" -d 'Update an existing key (the value is read from stdin when omitted)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and not __fish_seen_subcommand_from set mk mkdir setdir update updatedir get rm rmdir ls watch exec-watch member user role auth cluster-health export import backup completion man help" -f -a "updatedir" -d 'Update the TTL of an existing directory'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and not __fish_seen_subcommand_from set mk mkdir setdir update updatedir get rm rmdir ls watch exec-watch member user role auth cluster-health export import backup completion man help" -f -a "get" -d 'Print the value of a key'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and not __fish_seen_subcommand_from set mk mkdir setdir update updatedir get rm rmdir ls watch exec-watch member user role auth cluster-health export import backup completion man help" -f -a "rm" -d 'Remove a key or a directory'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and not __fish_seen_subcommand_from set mk mkdir setdir update updatedir get rm rmdir ls watch exec-watch member user role auth cluster-health export import backup completion man help" -f -a "rmdir" -d 'Remove an empty directory'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and not __fish_seen_subcommand_from set mk mkdir setdir update updatedir get rm rmdir ls watch exec-watch member user role auth cluster-health export import backup completion man help" -f -a "ls" -d 'List a directory'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and not __fish_seen_subcommand_from set mk mkdir setdir update updatedir get rm rmdir ls watch exec-watch member user role auth cluster-health export import backup completion man help" -f -a "watch" -d 'Wait for a change to a key and print it'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and not __fish_seen_subcommand_from set mk mkdir setdir update updatedir get rm rmdir ls watch exec-watch member user role auth cluster-health export import backup completion man help" -f -a "exec-watch" -d 'Run a command each time a key changes'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and not __fish_seen_subcommand_from set mk mkdir setdir update updatedir get rm rmdir ls watch exec-watch member user role auth cluster-health export import backup completion man help" -f -a "member" -d 'Cluster membership: list, add, remove'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and not __fish_seen_subcommand_from set mk mkdir setdir update updatedir get rm rmdir ls watch exec-watch member user role auth cluster-health export import backup completion man help" -f -a "user" -d 'Users of etcd\'s auth: add, get, list, remove, grant, revoke, passwd'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and not __fish_seen_subcommand_from set mk mkdir setdir update updatedir get rm rmdir ls watch exec-watch member user role auth cluster-health export import backup completion man help" -f -a "role" -d 'Roles of etcd\'s auth: add, get, list, remove, grant, revoke'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and not __fish_seen_subcommand_from set mk mkdir setdir update updatedir get rm rmdir ls watch exec-watch member user role auth cluster-health export import backup completion man help" -f -a "auth" -d 'Turn etcd\'s auth on or off'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and not __fish_seen_subcommand_from set mk mkdir setdir update updatedir get rm rmdir ls watch exec-watch member user role auth cluster-health export import backup completion man help" -f -a "cluster-health" -d 'Check the health of every member'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and not __fish_seen_subcommand_from set mk mkdir setdir update updatedir get rm rmdir ls watch exec-watch member user role auth cluster-health export import backup completion man help" -f -a "export" -d 'Print a subtree (keys, values, directories, TTLs) as JSON on stdout'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and not __fish_seen_subcommand_from set mk mkdir setdir update updatedir get rm rmdir ls watch exec-watch member user role auth cluster-health export import backup completion man help" -f -a "import" -d 'Recreate a tree written by `export` (TTLs preserved), with parallel requests'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and not __fish_seen_subcommand_from set mk mkdir setdir update updatedir get rm rmdir ls watch exec-watch member user role auth cluster-health export import backup completion man help" -f -a "backup" -d 'Copy a member\'s data dir (while it runs) into a backup that `etcd -data-dir <backup> -force-new-cluster` starts as a new one-member cluster'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and not __fish_seen_subcommand_from set mk mkdir setdir update updatedir get rm rmdir ls watch exec-watch member user role auth cluster-health export import backup completion man help" -f -a "completion" -d 'Print a shell completion script'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and not __fish_seen_subcommand_from set mk mkdir setdir update updatedir get rm rmdir ls watch exec-watch member user role auth cluster-health export import backup completion man help" -f -a "man" -d 'Print the man page (roff), or write one page per command into a directory'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and not __fish_seen_subcommand_from set mk mkdir setdir update updatedir get rm rmdir ls watch exec-watch member user role auth cluster-health export import backup completion man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and __fish_seen_subcommand_from member" -f -a "list" -d 'List the members'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and __fish_seen_subcommand_from member" -f -a "add" -d 'Add a member (then start it with the printed environment)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and __fish_seen_subcommand_from member" -f -a "remove" -d 'Remove a member by id'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "add" -d 'Add a user (`name:password`, or the password is asked for)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "get" -d 'Show a user and its roles'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "list" -d 'List the users'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "remove" -d 'Remove a user'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "grant" -d 'Grant roles to a user'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "revoke" -d 'Revoke roles from a user'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and __fish_seen_subcommand_from user" -f -a "passwd" -d 'Change a user\'s password (asked for on a terminal, else read from stdin)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and __fish_seen_subcommand_from role" -f -a "add" -d 'Add a role'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and __fish_seen_subcommand_from role" -f -a "get" -d 'Show a role\'s permissions'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and __fish_seen_subcommand_from role" -f -a "list" -d 'List the roles'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and __fish_seen_subcommand_from role" -f -a "remove" -d 'Remove a role'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and __fish_seen_subcommand_from role" -f -a "grant" -d 'Grant a role access to a path'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and __fish_seen_subcommand_from role" -f -a "revoke" -d 'Revoke a role\'s access to a path'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and __fish_seen_subcommand_from auth" -f -a "enable" -d 'Turn authentication on (a root user must exist)'
complete -c etcdctl -n "__fish_etcdctl_using_subcommand help; and __fish_seen_subcommand_from auth" -f -a "disable" -d 'Turn authentication off (as root)'
