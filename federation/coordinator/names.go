package coordinator

import (
	"strconv"
	"strings"
)

// replicaName is the failover machine's name of ordinal n of the service
// named svc: the pod's name, such as "db-3".
func replicaName(svc string, n int) string { return svc + "-" + strconv.Itoa(n) }

// ordinalOf parses a replica name of the service named svc back into its
// ordinal (canonical decimal only).
func ordinalOf(svc, name string) (int, bool) {
	digits, ok := strings.CutPrefix(name, svc+"-")
	if !ok || digits == "" || len(digits) > 10 || (len(digits) > 1 && digits[0] == '0') {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 0 || n > 1<<31-1 || strconv.Itoa(n) != digits {
		return 0, false
	}
	return n, true
}

// itoa renders an epoch.
func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
