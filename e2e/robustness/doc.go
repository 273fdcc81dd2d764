// Package robustness is fedstate's robustness suite: randomized fault
// schedules against the whole local federation (e2e/localfed) with a
// PostgreSQL service in synchronous mode and one in asynchronous mode,
// while clients write and read through the DNS names. Every client
// operation is recorded and the synchronous service's history is checked
// for linearizability with porcupine; invariants are checked directly: at
// most one writable primary at any sample, no acknowledged write lost in
// synchronous mode, losses in asynchronous mode reported, DNS never behind
// a committed epoch once it serves the commit's serial, no member object
// deleted.
//
// The tests need the build tag robustness: `make test-robustness`
// (ITER=n, SEED=s, FAULTS=kind,kind).
package robustness
