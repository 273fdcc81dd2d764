package postgres

import "testing"

func TestChoosePath(t *testing.T) {
	// The source is on timeline 3, which left timeline 1 at 0/3000000 and
	// timeline 2 at 0/5000000; it has written up to 0/6000000.
	src := source{SystemID: 42, Timeline: 3, Position: 0x6000000,
		History: []fork{{Timeline: 1, Switch: 0x3000000}, {Timeline: 2, Switch: 0x5000000}}}
	tests := []struct {
		name  string
		local localLog
		want  FollowPath
	}{
		{name: "standby behind on the source's timeline", local: localLog{SystemID: 42, Timeline: 3, End: 0x5800000}, want: PathNone},
		{name: "caught up on the source's timeline", local: localLog{SystemID: 42, Timeline: 3, End: 0x6000000}, want: PathNone},
		{name: "ahead of the source on its timeline", local: localLog{SystemID: 42, Timeline: 3, End: 0x6000001}, want: PathRewind},
		{name: "old timeline, up to the switch", local: localLog{SystemID: 42, Timeline: 2, End: 0x5000000}, want: PathNone},
		{name: "old timeline, past the switch", local: localLog{SystemID: 42, Timeline: 2, End: 0x5000001}, want: PathRewind},
		{name: "oldest timeline, before the switch", local: localLog{SystemID: 42, Timeline: 1, End: 0x2000000}, want: PathNone},
		{name: "oldest timeline, past its switch", local: localLog{SystemID: 42, Timeline: 1, End: 0x4000000}, want: PathRewind},
		{name: "a timeline the source never had", local: localLog{SystemID: 42, Timeline: 4, End: 0x100}, want: PathRewind},
		{name: "another cluster", local: localLog{SystemID: 7, Timeline: 3, End: 0x100}, want: PathBasebackup},
		{name: "unusable data", local: localLog{SystemID: 42, Timeline: 3, End: 0x100, Unusable: true}, want: PathBasebackup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := choosePath(tt.local, src); got != tt.want {
				t.Errorf("choosePath(%+v) = %s, want %s", tt.local, got, tt.want)
			}
		})
	}
}
