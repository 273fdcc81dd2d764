package agent

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"

	"github.com/fedstate/fedstate/replication/postgres"
)

// NewPostgres returns the NewDriver of the PostgreSQL driver: each replica
// gets a replication/postgres Instance made from base (binaries, users,
// timeouts) with the replica's name, data directory, socket directory
// (<RunDir>/socket), address and port.
func NewPostgres(base postgres.Config) NewDriver {
	return func(r ReplicaSpec) (Driver, error) {
		cfg := base
		cfg.Name, cfg.DataDir, cfg.Listen, cfg.Port = r.Name, r.DataDir, r.Listen, r.Port
		cfg.SocketDir = filepath.Join(r.RunDir, "socket")
		cfg.LogFile = filepath.Join(r.RunDir, "postgres.log")
		in, err := postgres.New(cfg)
		if err != nil {
			return nil, err
		}
		return &pgDriver{in: in}, nil
	}
}

// pgDriver adapts a postgres.Instance to Driver.
type pgDriver struct{ in *postgres.Instance }

func (d *pgDriver) Init(ctx context.Context) error {
	if err := d.in.Init(ctx); err != nil {
		return err
	}
	return d.in.Start(ctx)
}

func (d *pgDriver) Start(ctx context.Context) error { return d.in.Start(ctx) }

func (d *pgDriver) Stop(ctx context.Context, hard bool) error {
	mode := postgres.StopFast
	if hard {
		mode = postgres.StopImmediate
	}
	return d.in.Stop(ctx, mode)
}

func (d *pgDriver) Status(ctx context.Context) (Status, error) {
	st, err := d.in.Status(ctx)
	if errors.Is(err, postgres.ErrNotRunning) {
		return Status{}, fmt.Errorf("%w: %w", ErrNotRunning, err)
	}
	if err != nil {
		return Status{}, err
	}
	out := Status{
		Primary: st.Role == postgres.RolePrimary, Writable: st.Writable, Fenced: st.Fenced,
		Position: uint64(st.Position()), Timeline: uint64(st.Timeline),
	}
	if st.Streaming {
		if a, err := netip.ParseAddr(st.Upstream.Host); err == nil {
			out.Upstream = Endpoint{Addr: a, Port: st.Upstream.Port}
		}
	}
	for _, sb := range st.Standbys {
		if sb.SyncState == "sync" || sb.SyncState == "quorum" {
			if out.SyncAcks == nil {
				out.SyncAcks = map[string]uint64{}
			}
			out.SyncAcks[sb.Name] = uint64(sb.FlushLSN)
		}
	}
	return out, nil
}

func (d *pgDriver) Follow(ctx context.Context, primary Endpoint) (FollowResult, error) {
	ep := postgres.Endpoint{Host: primary.Addr.String(), Port: primary.Port}
	res, err := d.in.Seed(ctx, ep, postgres.SlotName(d.in.Config().Name))
	out := FollowResult{Path: string(res.Path)}
	if l := res.Lost; l != nil {
		out.Lost = &Lost{Timeline: uint64(l.Timeline), Fork: uint64(l.Fork), Bytes: l.Bytes, Transactions: l.Transactions}
	}
	return out, err
}

func (d *pgDriver) Promote(ctx context.Context, sync SyncSpec) error {
	_, err := d.in.Promote(ctx, pgSync(sync))
	return err
}

func (d *pgDriver) ConfigurePrimary(ctx context.Context, sync SyncSpec) error {
	return d.in.ConfigurePrimary(ctx, pgSync(sync))
}

func (d *pgDriver) Fence(ctx context.Context) error {
	_, err := d.in.Fence(ctx)
	return err
}

func (d *pgDriver) Unfence(ctx context.Context, sync SyncSpec) error {
	return d.in.Unfence(ctx, pgSync(sync))
}

func (d *pgDriver) Demote(ctx context.Context) (uint64, error) {
	lsn, err := d.in.Demote(ctx)
	return uint64(lsn), err
}

func (d *pgDriver) WaitReplay(ctx context.Context, position uint64) error {
	return d.in.WaitReplay(ctx, postgres.LSN(position))
}

func (d *pgDriver) DataDir() string { return d.in.Config().DataDir }

// pgSync is sync in the PostgreSQL driver's terms; commits wait for the
// standbys' flush.
func pgSync(s SyncSpec) postgres.SyncSpec {
	return postgres.SyncSpec{Standbys: s.Standbys, Synchronous: s.Synchronous, Quorum: s.Quorum}
}
