package failover

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/fedstate/fedstate/e2e/localfed"
	"github.com/fedstate/fedstate/e2e/testbed"
	"github.com/fedstate/fedstate/replication/postgres"
)

// patroniProfile is a set of Patroni's timings, in seconds as Patroni
// takes them.
type patroniProfile struct {
	name                        string
	ttl, loopWait, retryTimeout int
}

// patroniProfiles are the two settings the bench runs Patroni with: its
// defaults, and the closest it accepts to fedstate's 4 s lease TTL. Its
// etcd3 store needs retry_timeout >= 2: after renewing its lease a node
// must have a second of retry_timeout left to take the leader key, so with
// 1 no replica can ever take over. Its rule loop_wait + 2 * retry_timeout
// <= ttl then asks for a ttl of 5. (Patroni 3.0.2 enforces no minimum;
// later releases document ttl >= 20 and retry_timeout >= 3.)
func patroniProfiles() []patroniProfile {
	return []patroniProfile{
		{name: "patroni-defaults", ttl: 30, loopWait: 10, retryTimeout: 10},
		{name: "patroni-aggressive", ttl: 5, loopWait: 1, retryTimeout: 2},
	}
}

// patroniScope is the Patroni cluster name; its keys live under
// /service/<scope>/ in its etcd.
const patroniScope = "bench"

// patroniCluster is three Patroni nodes on loopback, each with its own
// PostgreSQL 15 server, and the single-node etcd they share.
type patroniCluster struct {
	// sync is Patroni's synchronous_mode; without it a failover may
	// promote a replica up to asyncBudget bytes behind.
	sync   bool
	closed bool
	dir    string
	etcd   *embed.Etcd
	cli    *clientv3.Client
	nodes  []*patroniNode
	cred   *syscall.Credential
	http   *http.Client
}

// patroniNode is one Patroni process and the server it runs.
type patroniNode struct {
	name string
	// bin is the patroni program.
	bin    string
	dir    string
	pgHost string
	apiURL string
	cmd    *exec.Cmd
	exited chan struct{}
}

// startPatroni starts the etcd and the three nodes of prof in a new
// folder, in synchronous mode or not, waits until one leads with a
// synchronous standby (in synchronous mode) and replicas, and creates the
// table the writers use. It skips the benchmark when patroni is not
// installed.
func startPatroni(t testing.TB, prof patroniProfile, sync bool) *patroniCluster {
	t.Helper()
	bin, err := exec.LookPath("patroni")
	if err != nil {
		t.Skip("patroni is not installed (Debian: apt-get install patroni)")
	}
	pgcfg := postgres.DefaultConfig()
	u, err := user.Lookup(pgcfg.OSUser)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	dir, err := os.MkdirTemp("", "fedstate-patroni-")
	if err != nil {
		t.Fatal(err)
	}
	c := &patroniCluster{sync: sync, dir: dir, cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)},
		http: &http.Client{Timeout: 500 * time.Millisecond}}
	t.Cleanup(func() { c.close(t) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := c.startEtcd(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		n, err := c.addNode(fmt.Sprintf("pg%d", i), bin, prof, uid, gid)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.start(c.cred); err != nil {
			t.Fatal(err)
		}
	}
	leader, _ := c.waitHealthy(t, nil)
	waitFor(t, time.Minute, "the table created on the Patroni leader", func() error {
		conn, err := connectTo(t.Context(), c.nodes[leader].pgHost)
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		_, err = conn.Exec(t.Context(), "CREATE TABLE IF NOT EXISTS rows (id int PRIMARY KEY)")
		return err
	})
	return c
}

// startEtcd starts Patroni's own single-node etcd on loopback, with the
// same settings as the federation's embedded etcd. Its advertised client
// URL is the one it listens on: Patroni asks etcd for its members' URLs.
func (c *patroniCluster) startEtcd() error {
	clientAddr, err := localfed.FreeAddr()
	if err != nil {
		return err
	}
	peerAddr, err := localfed.FreeAddr()
	if err != nil {
		return err
	}
	cu, pu := url.URL{Scheme: "http", Host: clientAddr}, url.URL{Scheme: "http", Host: peerAddr}
	ec := embed.NewConfig()
	ec.Name, ec.Dir = "patroni", filepath.Join(c.dir, "etcd")
	ec.ListenClientUrls, ec.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
	ec.ListenPeerUrls, ec.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
	ec.InitialCluster = ec.InitialClusterFromName(ec.Name)
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	if c.etcd, err = embed.StartEtcd(ec); err != nil {
		return fmt.Errorf("start Patroni's etcd: %w", err)
	}
	select {
	case <-c.etcd.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		return errors.New("patroni's etcd not ready within 30 s")
	}
	c.cli, err = clientv3.New(clientv3.Config{Endpoints: []string{cu.String()}, DialTimeout: 5 * time.Second})
	return err
}

// addNode writes the configuration of one node in its own folder, owned
// by the postgres OS user: PostgreSQL on a free loopback port with its
// socket in that folder, the REST API on another, trust for loopback
// clients and replication, pg_rewind, synchronous mode or, without it,
// asyncBudget as the most a replica may lag and still be promoted.
func (c *patroniCluster) addNode(name, bin string, prof patroniProfile, uid, gid int) (*patroniNode, error) {
	pgAddr, err := localfed.FreeAddr()
	if err != nil {
		return nil, err
	}
	apiAddr, err := localfed.FreeAddr()
	if err != nil {
		return nil, err
	}
	n := &patroniNode{name: name, bin: bin, dir: filepath.Join(c.dir, name), pgHost: pgAddr, apiURL: "http://" + apiAddr}
	hba := []string{"local all all trust", "host all all 127.0.0.1/32 trust", "host replication all 127.0.0.1/32 trust"}
	dcs := map[string]any{
		"ttl": prof.ttl, "loop_wait": prof.loopWait, "retry_timeout": prof.retryTimeout,
		"synchronous_mode": c.sync,
		"postgresql":       map[string]any{"use_pg_rewind": true, "use_slots": true},
	}
	if !c.sync {
		dcs["maximum_lag_on_failover"] = asyncBudget
	}
	cfg := map[string]any{
		"scope": patroniScope, "namespace": "/service/", "name": name,
		"restapi": map[string]any{"listen": apiAddr, "connect_address": apiAddr},
		"etcd3":   map[string]any{"host": strings.TrimPrefix(c.cli.Endpoints()[0], "http://")},
		"bootstrap": map[string]any{
			"dcs":    dcs,
			"initdb": []string{"data-checksums"},
		},
		"postgresql": map[string]any{
			"listen": pgAddr, "connect_address": pgAddr,
			"data_dir": filepath.Join(n.dir, "data"), "bin_dir": postgres.DefaultConfig().BinDir,
			"pgpass": filepath.Join(n.dir, "pgpass"),
			"authentication": map[string]any{
				"superuser":   map[string]string{"username": "postgres"},
				"replication": map[string]string{"username": "replicator"},
				"rewind":      map[string]string{"username": "postgres"},
			},
			"pg_hba":     hba,
			"parameters": map[string]any{"unix_socket_directories": n.dir},
		},
	}
	// JSON is YAML: Patroni reads it as its configuration file.
	raw, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(n.dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(n.dir, "patroni.yml"), raw, 0o644); err != nil {
		return nil, err
	}
	if err := os.Chown(n.dir, uid, gid); err != nil {
		return nil, err
	}
	c.nodes = append(c.nodes, n)
	return n, nil
}

// start runs Patroni for the node as the postgres OS user, in its own
// process group, its output appended to patroni.log in its folder.
func (n *patroniNode) start(cred *syscall.Credential) error {
	logf, err := os.OpenFile(filepath.Join(n.dir, "patroni.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(n.bin, filepath.Join(n.dir, "patroni.yml"))
	cmd.Dir = n.dir
	cmd.Env = []string{"HOME=" + n.dir, "PATH=/usr/bin:/bin", "LANG=C.UTF-8"}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start Patroni %s: %w", n.name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	n.cmd, n.exited = cmd, exited
	return nil
}

// kill kills the node as a region loss would: Patroni's process group
// with SIGKILL, then its PostgreSQL server (Patroni starts it in a
// session of its own) with SIGKILL too. It returns once they are gone.
func (n *patroniNode) kill() error {
	if n.exited != nil {
		_ = syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
		<-n.exited
		n.exited = nil
	}
	return testbed.KillPostgres(n.dir, 10*time.Second)
}

// close kills every node, stops the etcd and removes the folder, which
// it keeps with FEDSTATE_KEEP_LOGS set. It does nothing the second time.
func (c *patroniCluster) close(t testing.TB) {
	if c.closed {
		return
	}
	c.closed = true
	for _, n := range c.nodes {
		if err := n.kill(); err != nil {
			t.Error(err)
		}
	}
	if c.cli != nil {
		_ = c.cli.Close()
	}
	if c.etcd != nil {
		c.etcd.Close()
	}
	if os.Getenv("FEDSTATE_KEEP_LOGS") != "" {
		t.Logf("Patroni logs kept in %s/*/patroni.log", c.dir)
		return
	}
	_ = os.RemoveAll(c.dir)
}

// locate is the client's way to the leader: GET /primary on each node's
// REST API in turn, 500 ms each at most; the first to answer 200 leads.
func (c *patroniCluster) locate(ctx context.Context) (string, error) {
	for _, n := range c.nodes {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.apiURL+"/primary", nil)
		if err != nil {
			return "", err
		}
		resp, err := c.http.Do(req)
		if err != nil {
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return n.pgHost, nil
		}
	}
	return "", errors.New("no Patroni node answers 200 on /primary")
}

// pgHosts are the host:port pairs of the nodes' servers.
func (c *patroniCluster) pgHosts() []string {
	var out []string
	for _, n := range c.nodes {
		out = append(out, n.pgHost)
	}
	return out
}
