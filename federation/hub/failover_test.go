package hub

import (
	"reflect"
	"testing"

	"github.com/fedstate/fedstate/config"
	"github.com/fedstate/fedstate/replication/coord"
)

// TestCoordConfigDefaults: the hub's etcd defaults are replication/coord's.
func TestCoordConfigDefaults(t *testing.T) {
	got, want := CoordConfig(config.DefaultHub().Failover.Etcd), coord.DefaultConfig()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CoordConfig(defaults) = %+v\nwant coord.DefaultConfig() = %+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Error(err)
	}
}
