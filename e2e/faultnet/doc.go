// Package faultnet injects network faults between a client and a TCP
// server for robustness tests. A Proxy forwards loopback connections to a
// target and can partition them (both directions go silent, as over a lost
// network path: no reset, no data), heal the partition, or reset every
// connection at once (as when a process dies).
//
// Point the client under test at Proxy.Addr instead of the server:
//
//	p, err := faultnet.Listen("127.0.0.1:2379")
//	...
//	cli := connect(p.Addr())
//	p.Partition() // the client's requests now time out
//	p.Heal()      // the client redials and recovers
package faultnet
