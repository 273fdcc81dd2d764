// Package drill runs FailoverDrills, the DR drills of the federation's
// PostgreSQL services: a planned switchover to another region and back
// (Switchover), a region treated as lost (RegionOutage: its member
// clusters tainted NoSchedule, the primary moved out, and back after the
// hold), or a move of the primary back to a region (Failback).
//
// The Reconciler carries a drill through its steps (status.step: Away,
// Hold, Back or Reverting, Report, Done), one run at a time per service,
// asking the failover coordinator for each change of primary through the
// service's fedstate.io/switchover-to annotation and following the answer
// in its status.requests. Meanwhile client traffic (package load, or any
// Traffic) writes through the primary's DNS name. At the end, the
// acknowledged writes are read back from the final primary, Measure turns
// the service's failover history, the traffic and the abort criteria into
// phases, RTO, RPO and a verdict, and the report (package report) is
// written under Config.ReportDir.
//
// Measure is pure: the same Record gives the same Outcome. docs/drills.md
// describes the API, the phases and the verdict.
package drill
