package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/miekg/dns"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/fedstate/fedstate/e2e/localfed"
	"github.com/fedstate/fedstate/e2e/testbed"
	"github.com/fedstate/fedstate/federation/api/v1alpha1"
)

// localStatus is what fedctl local status found, one entry per part.
type localStatus struct {
	Dir       string         `json:"dir"`
	Started   time.Time      `json:"started"`
	Clusters  []localCluster `json:"clusters"`
	Etcd      []localProbe   `json:"etcd"`
	DNS       []localDNS     `json:"dns"`
	Members   []localMember  `json:"members"`
	Services  []localService `json:"services"`
	Processes []localProcess `json:"processes"`
	// HubError says why the hub's view could not be read.
	HubError string `json:"hubError,omitempty"`
}

type localCluster struct {
	Name   string `json:"name"`
	Region string `json:"region,omitempty"`
	Server string `json:"server"`
	Ready  bool   `json:"ready"`
}

type localProbe struct {
	URL     string `json:"url"`
	Healthy bool   `json:"healthy"`
	Error   string `json:"error,omitempty"`
}

type localDNS struct {
	Region  string `json:"region"`
	Address string `json:"address"`
	// Serial is the zone's SOA serial; zero with Error when it did not
	// answer.
	Serial uint32 `json:"serial"`
	Error  string `json:"error,omitempty"`
}

type localMember struct {
	Name       string `json:"name"`
	Region     string `json:"region"`
	Ready      bool   `json:"ready"`
	AgentAlive bool   `json:"agentAlive"`
}

type localService struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Desired   int32  `json:"desired"`
	Ready     int32  `json:"ready"`
	// Primary is "<name>-<ordinal> in <cluster>", empty without one.
	Primary string `json:"primary,omitempty"`
	Epoch   int64  `json:"epoch,omitempty"`
}

type localProcess struct {
	Name   string `json:"name"`
	PID    int    `json:"pid"`
	RSSMiB int64  `json:"rssMiB"`
}

// Healthy is true when every part answered.
func (s *localStatus) Healthy() bool {
	ok := s.HubError == ""
	for _, c := range s.Clusters {
		ok = ok && c.Ready
	}
	for _, e := range s.Etcd {
		ok = ok && e.Healthy
	}
	for _, d := range s.DNS {
		ok = ok && d.Error == ""
	}
	for _, m := range s.Members {
		ok = ok && m.Ready
	}
	return ok
}

// probeLocal asks every part of fed once.
func probeLocal(ctx context.Context, fed *localfed.Federation, s localfed.State) *localStatus {
	st := &localStatus{Dir: s.Dir, Started: s.Started}
	regions := map[string]string{}
	for _, c := range fed.Bed.Clusters() {
		regions[c.Name] = c.Region
	}
	for _, h := range fed.Bed.Health(ctx) {
		st.Clusters = append(st.Clusters, localCluster{Name: h.Name, Region: regions[h.Name], Server: h.Server, Ready: h.Ready})
	}
	for _, u := range s.EtcdURLs {
		st.Etcd = append(st.Etcd, probeEtcd(ctx, u))
	}
	for i, m := range s.Members {
		d := localDNS{Region: m.Region, Address: s.DNS[i]}
		if serial, err := soaSerial(s.DNS[i]); err != nil {
			d.Error = err.Error()
		} else {
			d.Serial = serial
		}
		st.DNS = append(st.DNS, d)
	}
	var members v1alpha1.MemberClusterList
	var services v1alpha1.FederatedStatefulSetList
	if err := fed.Hub.List(ctx, &members); err != nil {
		st.HubError = err.Error()
	} else if err := fed.Hub.List(ctx, &services); err != nil {
		st.HubError = err.Error()
	}
	for _, mc := range members.Items {
		st.Members = append(st.Members, localMember{
			Name: mc.Name, Region: mc.Spec.Region,
			Ready:      meta.IsStatusConditionTrue(mc.Status.Conditions, v1alpha1.MemberReady),
			AgentAlive: meta.IsStatusConditionTrue(mc.Status.Conditions, v1alpha1.MemberAgentAlive),
		})
	}
	for _, fss := range services.Items {
		ls := localService{Namespace: fss.Namespace, Name: fss.Name, Desired: fss.Spec.Replicas, Ready: fss.Status.ReadyReplicas}
		if p := fss.Status.Primary; p != nil {
			ls.Primary, ls.Epoch = fmt.Sprintf("%s-%d in %s", fss.Name, p.Ordinal, p.Cluster), p.Epoch
		}
		st.Services = append(st.Services, ls)
	}
	for _, u := range fed.Bed.Usage() {
		st.Processes = append(st.Processes, localProcess{Name: u.Name, PID: u.PID, RSSMiB: u.RSSBytes >> 20})
	}
	return st
}

// probeEtcd asks an etcd member's /health.
func probeEtcd(ctx context.Context, url string) localProbe {
	p := localProbe{URL: url}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/health", nil)
	if err != nil {
		p.Error = err.Error()
		return p
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.Error = err.Error()
		return p
	}
	defer resp.Body.Close()
	var h struct {
		Health string `json:"health"`
		Reason string `json:"reason"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		p.Error = fmt.Sprintf("/health: %s: %v", resp.Status, err)
		return p
	}
	p.Healthy = h.Health == "true"
	if !p.Healthy {
		p.Error = fmt.Sprintf("/health: %s %s", h.Health, h.Reason)
	}
	return p
}

// soaSerial asks a DNS server for the local zone's SOA.
func soaSerial(addr string) (uint32, error) {
	q := new(dns.Msg)
	q.SetQuestion(localfed.Zone, dns.TypeSOA)
	c := &dns.Client{Timeout: 2 * time.Second}
	resp, _, err := c.Exchange(q, addr)
	if err != nil {
		return 0, err
	}
	if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 1 {
		return 0, fmt.Errorf("SOA %s: %s with %d answers", localfed.Zone, dns.RcodeToString[resp.Rcode], len(resp.Answer))
	}
	soa, ok := resp.Answer[0].(*dns.SOA)
	if !ok {
		return 0, fmt.Errorf("SOA %s: answered %s", localfed.Zone, dns.TypeToString[resp.Answer[0].Header().Rrtype])
	}
	return soa.Serial, nil
}

// renderLocalStatus prints st in format (table, json or yaml); now gives
// the age in the table.
func renderLocalStatus(format string, st *localStatus, now time.Time) ([]byte, error) {
	return render(format, st, func(w io.Writer) { writeLocalTable(w, st, now) })
}

// writeLocalTable lays st out for people: the parts, the members, the
// services, the processes.
func writeLocalTable(w io.Writer, st *localStatus, now time.Time) {
	fmt.Fprintf(w, "Local federation in %s, up for %s.\n\n", st.Dir, duration.HumanDuration(now.Sub(st.Started)))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PART\tADDRESS\tSTATE")
	for _, c := range st.Clusters {
		what := "cluster " + c.Name
		if c.Name == testbed.HubName {
			what = "hub cluster"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", what, c.Server, answers(c.Ready, "not ready"))
	}
	for _, e := range st.Etcd {
		fmt.Fprintf(tw, "federation etcd\t%s\t%s\n", e.URL, answers(e.Healthy, e.Error))
	}
	for _, d := range st.DNS {
		state := fmt.Sprintf("serving, serial %d", d.Serial)
		if d.Error != "" {
			state = "NOT ANSWERING: " + d.Error
		}
		fmt.Fprintf(tw, "dns %s\t%s\t%s\n", d.Region, d.Address, state)
	}
	tw.Flush()
	io.WriteString(w, "\n")
	if st.HubError != "" {
		fmt.Fprintf(w, "The hub's view could not be read: %s\n", st.HubError)
	} else {
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "MEMBER\tREGION\tREADY\tAGENT")
		for _, m := range st.Members {
			fmt.Fprintf(tw, "%s\t%s\t%t\t%s\n", m.Name, m.Region, m.Ready, map[bool]string{true: "alive", false: "not seen"}[m.AgentAlive])
		}
		tw.Flush()
		io.WriteString(w, "\n")
		if len(st.Services) == 0 {
			io.WriteString(w, "No services yet: kubectl apply -f config/samples/postgres.yaml\n")
		} else {
			tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SERVICE\tREADY\tPRIMARY\tEPOCH")
			for _, s := range st.Services {
				fmt.Fprintf(tw, "%s/%s\t%d/%d\t%s\t%s\n", s.Namespace, s.Name, s.Ready, s.Desired, orDash(s.Primary), epochText(s.Epoch))
			}
			tw.Flush()
		}
		io.WriteString(w, "\n")
	}
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROCESS\tPID\tRSS")
	var total int64
	for _, p := range st.Processes {
		fmt.Fprintf(tw, "%s\t%d\t%d MiB\n", p.Name, p.PID, p.RSSMiB)
		total += p.RSSMiB
	}
	fmt.Fprintf(tw, "%d processes\t\t%d MiB\n", len(st.Processes), total)
	tw.Flush()
}

// answers is "answering" or, when not ok, why not.
func answers(ok bool, why string) string {
	if ok {
		return "answering"
	}
	return "NOT ANSWERING: " + strings.TrimSpace(why)
}

func epochText(e int64) string {
	if e == 0 {
		return "-"
	}
	return fmt.Sprint(e)
}
