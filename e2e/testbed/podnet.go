package testbed

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Pod networks: every bed takes a block of ten /16 networks inside
// 127.0.0.0/8, block b giving member i (the hub is 0) 127.<10b+i>.0.0/16,
// so that beds running at the same time on one machine (two test packages,
// a test bed beside a test) never hand out the same pod address — their
// PostgreSQL servers listen on those addresses. A block is claimed with a
// file <tmp>/fedstate-podnets/<b> naming the bed's state folder and the
// process that claimed it; a claim is stale, and taken over, once its
// folder holds no bed and that process is gone (a bed saves its state
// folder only after it claimed, so the process covers the gap, and a
// detached bed outlives its process through the folder).
const (
	firstPodNetBlock = 1
	lastPodNetBlock  = 23 // 127.230-239.0.0/16
)

// podNetDir holds the claims.
func podNetDir() string { return filepath.Join(os.TempDir(), "fedstate-podnets") }

// claimPodNet claims a free block for the bed in stateDir.
func claimPodNet(stateDir string) (int, error) {
	dir := podNetDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	for b := firstPodNetBlock; b <= lastPodNetBlock; b++ {
		path := filepath.Join(dir, strconv.Itoa(b))
		if holder, err := os.ReadFile(path); err == nil {
			if claimLive(string(holder), stateDir) {
				continue // in use
			}
			_ = os.Remove(path) // stale: its bed is gone
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			continue // claimed meanwhile
		}
		if err != nil {
			return 0, err
		}
		_, err = fmt.Fprintf(f, "%s\n%d\n", stateDir, os.Getpid())
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = os.Remove(path)
			return 0, err
		}
		return b, nil
	}
	return 0, fmt.Errorf("testbed: all %d pod network blocks are in use (claims in %s)", lastPodNetBlock-firstPodNetBlock+1, dir)
}

// claimLive says whether a claim file's content names a bed that may still
// use its block: its state folder holds a bed, is the folder asking, or
// the process that claimed it runs.
func claimLive(claim, stateDir string) bool {
	owner, pid, _ := strings.Cut(strings.TrimSpace(claim), "\n")
	if owner == stateDir {
		return true
	}
	if _, err := os.Stat(filepath.Join(owner, stateFile)); err == nil {
		return true
	}
	n, err := strconv.Atoi(strings.TrimSpace(pid))
	if err != nil || n <= 0 {
		return false
	}
	// Signal 0 checks that the process exists; EPERM means it does.
	err = syscall.Kill(n, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// releasePodNet gives block back if the bed in stateDir holds it.
func releasePodNet(block int, stateDir string) {
	if block == 0 {
		return
	}
	path := filepath.Join(podNetDir(), strconv.Itoa(block))
	if holder, err := os.ReadFile(path); err == nil && firstLine(string(holder)) == stateDir {
		_ = os.Remove(path)
	}
}

// firstLine is s up to its first newline.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(line)
}

// podCIDR is the pod network of the cluster of index (the hub is 0) in
// block.
func podCIDR(block, index int) string {
	return fmt.Sprintf("127.%d.0.0/16", block*10+index)
}
