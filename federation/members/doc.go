// Package members is the hub's member-cluster registry: the one component
// that owns connections to member clusters. Controllers ask it for a
// member's client and never build their own.
//
// A Registry holds, per connected member, a controller-runtime cluster.Cluster
// whose cache watches only the objects the hub manages there (StatefulSets,
// Services, PodDisruptionBudgets and Pods that carry LabelService), a client
// that reads those from the cache and everything else from the member's API
// server, and a probe loop. Every ProbeInterval the loop GETs the member's
// /readyz within ProbeTimeout; after FailureThreshold consecutive failures
// the member is unreachable (no answer) or not ready (an answer other than
// 200), and one success makes it healthy again. On a healthy probe the
// loop summarises the member's nodes and storage classes, which its cache
// also watches (nodes slimmed to what the summary reads), into a capacity.
// The loop writes the verdict into the MemberCluster's status (conditions
// Reachable and Ready, lastProbeTime, capacity, kubernetesVersion) when
// something changed, or every 30 seconds to refresh lastProbeTime, and
// emits an event on every transition.
//
// MemberClusterReconciler connects members: it reads the kubeconfig Secret
// a MemberCluster names (key "kubeconfig" by default), connects the member,
// reconnects it when the kubeconfig changes, reports a missing Secret
// (SecretNotFound) or an unusable kubeconfig (KubeconfigInvalid), and
// disconnects the member when the MemberCluster is deleted (a finalizer
// waits for that). An unreachable member is never disconnected and nothing
// is ever deleted in a member because of it.
//
// AgentMonitor writes the third condition, AgentAlive: whether the
// member's fedstate agent holds its session in the federation etcd, told
// early and partition-aware by the hub's view of the gossip pool (see
// agentAlive for the rules). It patches only that condition, under the
// same optimistic locking as the registry, and nothing acts on it.
//
// Wiring, in the hub's main:
//
//	reg, err := members.New(cfg.Members, mgr.GetClient(), mgr.GetScheme(), mgr.GetEventRecorder("fedstate-members"))
//	r := &members.MemberClusterReconciler{Client: mgr.GetClient(), Registry: reg, Recorder: mgr.GetEventRecorder("fedstate-members")}
//	err = r.SetupWithManager(mgr) // also adds reg, leader-elected, to mgr
//
// and a controller that manages member objects watches reg.Events() with
// source.Channel and calls reg.Client(name) in its Reconcile. With the
// federation etcd (store) and the hub's gossip node (pool, optional):
//
//	m := &members.AgentMonitor{Client: mgr.GetClient(), Sessions: store, Gossip: pool, Recorder: rec}
//	err = m.SetupWithManager(mgr)
package members
