package coord

import "errors"

var (
	// ErrFenced is returned when the caller no longer holds the role a write
	// requires: the hub leader key is not the caller's any more, or the
	// service's epoch or primary moved past the agent asking for the lease.
	// Nothing was written. The caller must stop acting in that role.
	ErrFenced = errors.New("coord: fenced")

	// ErrConflict is returned when the state a write was decided on changed
	// first (another promotion bumped the epoch, the primary lease changed,
	// a DNS record moved). Nothing was written; re-read and decide again.
	ErrConflict = errors.New("coord: state changed concurrently")

	// ErrSessionEnded is returned by an Agent whose session lease is gone:
	// revoked, expired, or not renewed for its whole TTL.
	ErrSessionEnded = errors.New("coord: agent session ended")

	// ErrLeaseLost is what PrimaryLease.Err wraps once the lease is no
	// longer held: expired, revoked, released, not renewed for its TTL, or
	// its key deleted or taken over by a promotion.
	ErrLeaseLost = errors.New("coord: primary lease lost")

	// ErrNoLeader is returned by Store.Leader when no hub replica holds the
	// leadership.
	ErrNoLeader = errors.New("coord: no hub leader")
)
