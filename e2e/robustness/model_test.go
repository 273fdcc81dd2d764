//go:build robustness

package robustness

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/anishathalye/porcupine"
)

// The workload: every key holds a grow-only set of integers. A client adds
// values to its own key and reads any key. Reads are made in a transaction
// that also writes, so a read served by a primary that lost its authority
// cannot commit.

// opInput is an operation's input.
type opInput struct {
	Add bool
	Key string
	Val int
}

// opOutput is an operation's output: the values a read returned.
type opOutput struct {
	Vals []int
}

// setModel is the sequential specification: a map from key to a sorted set,
// checked per key (porcupine partitions by key).
var setModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range history {
			k := op.Input.(opInput).Key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() any { return "" },
	Step: func(state, input, output any) (bool, any) {
		in := input.(opInput)
		set := state.(string)
		if in.Add {
			return true, addToSet(set, in.Val)
		}
		return formatSet(output.(opOutput).Vals) == set, set
	},
	DescribeOperation: func(input, output any) string {
		in := input.(opInput)
		if in.Add {
			return fmt.Sprintf("add(%s, %d)", in.Key, in.Val)
		}
		return fmt.Sprintf("read(%s) -> {%s}", in.Key, formatSet(output.(opOutput).Vals))
	},
}

// addToSet adds v to the set encoded as sorted comma-separated values.
func addToSet(set string, v int) string {
	vals := parseSet(set)
	if !slices.Contains(vals, v) {
		vals = append(vals, v)
	}
	return formatSet(vals)
}

func parseSet(s string) []int {
	if s == "" {
		return nil
	}
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, _ := strconv.Atoi(f)
		out = append(out, n)
	}
	return out
}

func formatSet(vals []int) string {
	vals = slices.Clone(vals)
	slices.Sort(vals)
	vals = slices.Compact(vals)
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, ",")
}
