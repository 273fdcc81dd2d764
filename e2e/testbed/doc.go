// Package testbed runs a real local federation on one machine: one etcd, a
// hub kube-apiserver with a controller-manager, and any number of member
// clusters, each a kube-apiserver, controller-manager, scheduler and kwok
// with fake nodes, a default StorageClass and hostPath volumes. Everything
// listens on loopback only, and pods get IPs inside 127.0.0.0/8.
//
// The binaries are built from the Go module proxy (Build) into a cache
// folder keyed by version, so a second build is a no-op. Start brings the
// clusters up and returns once every API server is ready; Close tears them
// down. A test package starts one bed in TestMain and shares it:
//
//	bins, err := testbed.Build(ctx, testbed.BuildConfig{CacheDir: dir, Progress: os.Stderr})
//	cfg := testbed.DefaultConfig()
//	cfg.Binaries, cfg.StateDir = bins, stateDir
//	bed, err := testbed.Start(ctx, cfg)
//	defer bed.Close()
//
// Programs that belong to a cluster, such as the member agent, join it
// with AddProcess: they are recorded in the state, started again by
// StartCluster once the cluster's nodes are ready, and can be killed
// (StopProcess), restarted (StartProcess) or frozen (PauseProcess) on their
// own to inject faults. StopCluster is the outage of a whole region: it
// kills the cluster's processes and the PostgreSQL servers whose data
// directories are in its volumes (VolumeDir) with SIGKILL. PostgreSQL runs
// as the postgres user, so the folders above the state folder must be
// open to other users: os.MkdirTemp("", ...) is, t.TempDir() is not.
//
// Processes started for a test die with the test process (Linux parent-death
// signal), so a failing, panicking or interrupted test leaks nothing. With
// Config.Detach the processes outlive the caller (fedctl testbed up) and are
// recorded in a state file; Attach reads it back so that another process can
// stop exactly the processes that were started.
package testbed
