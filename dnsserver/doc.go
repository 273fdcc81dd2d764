// Package dnsserver is fedstate's authoritative DNS server for the
// federation zone (default fedstate.local.).
//
// The hub and the failover coordinator publish records through a Writer,
// whose methods return etcd operations (Ops) to add to their own
// transactions, so that a primary flip and its fencing epoch commit
// together. A Source keeps an immutable Snapshot of the records, built from
// one range read and maintained by an etcd watch, rebuilding only the
// services that changed; its SOA serial is the etcd revision. A Handler
// answers queries from the current snapshot without any etcd round trip,
// and a Server runs the UDP and TCP listeners, the Source, metrics and a
// health check.
//
// The name scheme and key layout are documented in docs/dns.md; Key is the
// one pure function that maps between etcd keys, records and DNS names.
package dnsserver
