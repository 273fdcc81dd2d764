package failover

// lossMeasured adds a returning old primary's measured loss to the record
// of the change of primary that replaced it: the newest record from the
// replica in the measurement's epoch or before. The replica must not have
// reported following that record's epoch or a later one (its log would
// then hold a later history's writes: a lagging standby's, not what the
// old primary lost), and the record takes one measurement only: the
// first, made before any repair, stands.
func (m *machine) lossMeasured(e LossMeasured) {
	r := m.s.Replica(e.Replica)
	if r == nil || e.Epoch > m.s.Epoch {
		return
	}
	for i := range m.s.History {
		rec := &m.s.History[i]
		if rec.From != e.Replica || rec.Epoch > e.Epoch {
			continue
		}
		if r.Epoch >= rec.Epoch || !rec.LossMeasuredAt.IsZero() {
			return
		}
		rec.MeasuredLossBytes, rec.LostTransactions, rec.LossMeasuredAt = e.Bytes, e.Transactions, m.now
		m.emit(RecordFailover{Record: *rec})
		return
	}
}
