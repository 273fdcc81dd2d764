package v1alpha1

import (
	"fmt"
	"strconv"
	"strings"
)

// FormatReplicationAnnotation is the value of AnnotationReplication for r:
// "syncReplicas=<n>,syncScope=<scope>", the scope Any when unset.
func FormatReplicationAnnotation(r Replication) string {
	scope := r.SyncReplicaScope
	if scope == "" {
		scope = SyncAnywhere
	}
	return fmt.Sprintf("syncReplicas=%d,syncScope=%s", r.SyncReplicas, scope)
}

// ParseReplicationAnnotation reads a value of AnnotationReplication back:
// the number of synchronous standbys and where they must run. Fields it
// does not know are ignored, so that an older agent reads a newer hub's
// slices; a missing field keeps its default (0, Any).
func ParseReplicationAnnotation(v string) (syncReplicas int32, scope SyncReplicaScope, err error) {
	scope = SyncAnywhere
	for field := range strings.SplitSeq(v, ",") {
		key, val, ok := strings.Cut(strings.TrimSpace(field), "=")
		if !ok {
			return 0, "", fmt.Errorf("%s %q: field %q is not key=value", AnnotationReplication, v, field)
		}
		switch key {
		case "syncReplicas":
			n, err := strconv.ParseInt(val, 10, 32)
			if err != nil || n < 0 {
				return 0, "", fmt.Errorf("%s %q: syncReplicas %q is not a count", AnnotationReplication, v, val)
			}
			syncReplicas = int32(n)
		case "syncScope":
			switch s := SyncReplicaScope(val); s {
			case SyncAnywhere, SyncSameRegion, SyncOtherRegion:
				scope = s
			default:
				return 0, "", fmt.Errorf("%s %q: syncScope %q is not Any, SameRegion or OtherRegion", AnnotationReplication, v, val)
			}
		}
	}
	return syncReplicas, scope, nil
}
