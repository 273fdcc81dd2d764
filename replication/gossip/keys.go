package gossip

import (
	"bytes"
	"errors"
	"fmt"
)

// ErrInsecure is returned by the key methods of a pool running without
// encryption (Config.Insecure).
var ErrInsecure = errors.New("gossip: pool runs without encryption (insecure); no keyring to change")

// Keys returns this node's keyring, primary first (nil when insecure).
func (p *Pool) Keys() [][]byte {
	if p.keyring == nil {
		return nil
	}
	keys := p.keyring.GetKeys()
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = bytes.Clone(k)
	}
	return out
}

// AddKey installs key (KeySize bytes) in this node's keyring: from now on
// this node decrypts messages sealed with it. Adding a present key does
// nothing. It changes this node only; see the package doc for rotating
// the keys of a running pool.
func (p *Pool) AddKey(key []byte) error {
	if p.keyring == nil {
		return ErrInsecure
	}
	if len(key) != KeySize {
		return fmt.Errorf("gossip: add key: %d bytes, want %d", len(key), KeySize)
	}
	if err := p.keyring.AddKey(bytes.Clone(key)); err != nil {
		return fmt.Errorf("gossip: add key: %w", err)
	}
	return nil
}

// UseKey makes an installed key this node's primary key: from now on this
// node encrypts with it. Every other node must have installed it first.
func (p *Pool) UseKey(key []byte) error {
	if p.keyring == nil {
		return ErrInsecure
	}
	if err := p.keyring.UseKey(key); err != nil {
		return fmt.Errorf("gossip: use key: %w", err)
	}
	return nil
}

// RemoveKey removes a key from this node's keyring; the primary key
// cannot be removed, and removing an absent key does nothing. Every other
// node must have stopped encrypting with it first.
func (p *Pool) RemoveKey(key []byte) error {
	if p.keyring == nil {
		return ErrInsecure
	}
	if err := p.keyring.RemoveKey(key); err != nil {
		return fmt.Errorf("gossip: remove key: %w", err)
	}
	return nil
}

// ApplyKeyring makes this node's keyring equal to keys, primary first (a
// keyring file reloaded after its Secret changed): it installs the new
// keys, switches the primary, then removes the keys no longer listed.
func (p *Pool) ApplyKeyring(keys [][]byte) error {
	if p.keyring == nil {
		return ErrInsecure
	}
	if len(keys) == 0 {
		return errors.New("gossip: apply keyring: no keys")
	}
	for _, k := range keys {
		if err := p.AddKey(k); err != nil {
			return err
		}
	}
	if err := p.UseKey(keys[0]); err != nil {
		return err
	}
	for _, k := range p.Keys() {
		if !containsKey(keys, k) {
			if err := p.RemoveKey(k); err != nil {
				return err
			}
		}
	}
	return nil
}
