// tlogcheck: an independent check of a comity log with Go's
// golang.org/x/mod/sumdb/{note,tlog} (Debian's golang-golang-x-mod).
//
//	tlogcheck genkey NAME            prints a Go signing key and its vkey
//	tlogcheck check VKEYFILE DIR [proof:FILE]... [cons:OLD:FILE]...
//
// check: opens DIR/checkpoint with note.Open under the vkey; reads every
// entry bundle and hash tile of DIR itself (the c2sp.org/tlog-tiles paths,
// decoded here independently of comity); recomputes the record hashes, the
// stored hashes and the tree hash with tlog; requires every tile to hold the
// hashes tlog computes, and the root to be the checkpoint's; then checks
// comity's tlog-proof receipts with tlog.CheckRecord and its consistency
// proofs with tlog.CheckTree, and compares each with tlog's own proof.
// Go's tile layout (tile/8/...) differs from tlog-tiles: only its hashing
// and proof functions are used.
package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func die(f string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "tlogcheck: "+f+"\n", a...)
	os.Exit(1)
}

func tilePath(level int, n int64, w int) string {
	s := fmt.Sprintf("%03d", n%1000)
	for n /= 1000; n > 0; n /= 1000 {
		s = fmt.Sprintf("x%03d/%s", n%1000, s)
	}
	l := "entries"
	if level >= 0 {
		l = strconv.Itoa(level)
	}
	p := "tile/" + l + "/" + s
	if w > 0 && w < 256 {
		p += ".p/" + strconv.Itoa(w)
	}
	return p
}

func main() {
	if len(os.Args) >= 3 && os.Args[1] == "genkey" {
		skey, vkey, err := note.GenerateKey(rand.Reader, os.Args[2])
		if err != nil {
			die("%v", err)
		}
		fmt.Println(skey)
		fmt.Println(vkey)
		return
	}
	if len(os.Args) < 4 || os.Args[1] != "check" {
		die("usage: tlogcheck check VKEYFILE DIR [proof:FILE]... [cons:OLD:FILE]...")
	}
	vk, err := os.ReadFile(os.Args[2])
	if err != nil {
		die("%v", err)
	}
	dir := os.Args[3]
	v, err := note.NewVerifier(strings.TrimSpace(string(vk)))
	if err != nil {
		die("vkey: %v", err)
	}
	msg, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
	if err != nil {
		die("%v", err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		die("checkpoint signature: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != v.Name() {
		die("checkpoint: bad text or origin %q", lines[0])
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		die("checkpoint size: %v", err)
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		die("checkpoint root: %v", err)
	}

	// entries, from the bundles
	var entries [][]byte
	for t := int64(0); t*256 < size; t++ {
		w := 0
		if (t+1)*256 > size {
			w = int(size % 256)
		}
		b, err := os.ReadFile(filepath.Join(dir, tilePath(-1, t, w)))
		if err != nil {
			die("%v", err)
		}
		for len(b) > 0 {
			if len(b) < 2 || len(b) < 2+int(b[0])<<8|int(b[1]) {
				die("%s: truncated bundle", tilePath(-1, t, w))
			}
			l := int(b[0])<<8 | int(b[1])
			entries = append(entries, b[2:2+l])
			b = b[2+l:]
		}
	}
	if int64(len(entries)) != size {
		die("bundles hold %d entries, checkpoint says %d", len(entries), size)
	}

	// stored hashes, the way Go's tlog keeps them
	var stored []tlog.Hash
	hr := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			if x >= int64(len(stored)) {
				return nil, fmt.Errorf("no stored hash %d", x)
			}
			out[i] = stored[x]
		}
		return out, nil
	})
	for i, e := range entries {
		hs, err := tlog.StoredHashes(int64(i), e, hr)
		if err != nil {
			die("%v", err)
		}
		stored = append(stored, hs...)
	}
	var th tlog.Hash
	if size == 0 {
		th = sha256.Sum256(nil) // RFC 6962; Go's TreeHash(0) is all zeros
	} else if th, err = tlog.TreeHash(size, hr); err != nil {
		die("%v", err)
	}
	if th != root {
		die("root: tlog computes %v, checkpoint says %v", th, root)
	}

	// every tile of every level, full and partial, holds tlog's hashes
	tiles := 0
	for level := 0; level < 8; level++ {
		count := size >> (8 * uint(level)) // hashes at this tile level
		for t := int64(0); t*256 < count; t++ {
			w := 0
			if (t+1)*256 > count {
				w = int(count % 256)
			}
			p := tilePath(level, t, w)
			b, err := os.ReadFile(filepath.Join(dir, p))
			if err != nil {
				die("%v", err)
			}
			want := 256
			if w > 0 {
				want = w
			}
			if len(b) != 32*want {
				die("%s: %d bytes, want %d", p, len(b), 32*want)
			}
			for j := 0; j < want; j++ {
				idx := tlog.StoredHashIndex(8*level, t*256+int64(j))
				if !bytes.Equal(b[32*j:32*j+32], stored[idx][:]) {
					die("%s: hash %d differs from tlog's", p, j)
				}
			}
			tiles++
		}
	}

	proofs, cons := 0, 0
	for _, a := range os.Args[4:] {
		switch {
		case strings.HasPrefix(a, "proof:"):
			b, err := os.ReadFile(a[6:])
			if err != nil {
				die("%v", err)
			}
			parts := strings.SplitN(string(b), "\n\n", 2)
			pl := strings.Split(parts[0], "\n")
			if pl[0] != "c2sp.org/tlog-proof@v1" || !strings.HasPrefix(pl[1], "index ") {
				die("%s: not a tlog-proof", a)
			}
			idx, _ := strconv.ParseInt(pl[1][6:], 10, 64)
			var rp tlog.RecordProof
			for _, l := range pl[2:] {
				h, err := tlog.ParseHash(l)
				if err != nil {
					die("%s: %v", a, err)
				}
				rp = append(rp, h)
			}
			if _, err := note.Open([]byte(parts[1]), note.VerifierList(v)); err != nil {
				die("%s: checkpoint: %v", a, err)
			}
			if err := tlog.CheckRecord(rp, size, root, idx, tlog.RecordHash(entries[idx])); err != nil {
				die("%s: CheckRecord: %v", a, err)
			}
			mine, err := tlog.ProveRecord(size, idx, hr)
			if err != nil || len(mine) != len(rp) {
				die("%s: tlog's proof differs in length", a)
			}
			for i := range mine {
				if mine[i] != rp[i] {
					die("%s: hash %d differs from tlog's proof", a, i)
				}
			}
			proofs++
		case strings.HasPrefix(a, "cons:"):
			f := strings.SplitN(a[5:], ":", 2)
			old, _ := strconv.ParseInt(f[0], 10, 64)
			b, err := os.ReadFile(f[1])
			if err != nil {
				die("%v", err)
			}
			var tp tlog.TreeProof
			for _, l := range strings.Fields(string(b)) {
				h, err := tlog.ParseHash(l)
				if err != nil {
					die("%s: %v", a, err)
				}
				tp = append(tp, h)
			}
			oh, err := tlog.TreeHash(old, hr)
			if err != nil {
				die("%v", err)
			}
			if err := tlog.CheckTree(tp, size, root, old, oh); err != nil {
				die("%s: CheckTree: %v", a, err)
			}
			mine, err := tlog.ProveTree(size, old, hr)
			if err != nil || len(mine) != len(tp) {
				die("%s: tlog's proof differs", a)
			}
			for i := range mine {
				if mine[i] != tp[i] {
					die("%s: hash %d differs from tlog's proof", a, i)
				}
			}
			cons++
		default:
			die("unknown argument %s", a)
		}
	}
	fmt.Printf("go x/mod agrees: signature, %d entries, %d tiles, root, %d receipts, %d consistency proofs\n",
		size, tiles, proofs, cons)
}
