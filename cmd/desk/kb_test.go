package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/deskhq/desk/store"
)

// TestKBCommandsOverSSH: an operator writes, edits and applies an article
// over SSH; a viewer reads it and is refused writes; the JSON has the
// article with its history.
func TestKBCommandsOverSSH(t *testing.T) {
	op := newTestOp(t, "kim", "operator")
	viewer := newTestOp(t, "vera", "viewer")
	ts := startTestServer(t, []testOp{op, viewer}, "", serveOptions{})
	out, errOut, code := ts.runCmd(op, `kb new --title "VPN drops every hour" --kind known-error --service VPN --tags vpn,tunnel --body "Cause: rekeying. No fix yet."`)
	if code != 0 || !strings.Contains(out, "KB-1  VPN drops every hour") {
		t.Fatalf("kb new: exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code = ts.runCmd(viewer, `kb new --title x --body y`); code != 1 || !strings.Contains(errOut, "for operators") {
		t.Errorf("a viewer wrote an article: exit %d, %s", code, errOut)
	}
	if out, errOut, code = ts.runCmd(op, `kb edit KB-1 --kind workaround --body "Reconnect the client; the supplier is on it."`); code != 0 || !strings.Contains(out, "version 2") {
		t.Fatalf("kb edit: exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code = ts.runCmd(op, `kb edit KB-1 --version 1 --title "stale edit"`); code != 1 || !strings.Contains(errOut, "changed since you opened it") {
		t.Errorf("an edit of an old version: exit %d, %s", code, errOut)
	}
	tk := ts.create("VPN keeps dropping", 3)
	if _, err := ts.s.st.SetField(tk.ID, "kim", store.FieldStatus, "new", "open"); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code = ts.runCmd(op, "resolve "+tk.ID.String()+" --kb KB-1"); code != 0 || !strings.Contains(out, "resolved") {
		t.Fatalf("resolve --kb: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = ts.runCmd(viewer, "kb show KB-1 --json")
	var a struct {
		store.Article
		History []store.ArticleEvent `json:"history"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &a) != nil || a.Kind != store.KindWorkaround || a.Applied != 1 || len(a.History) != 3 {
		t.Fatalf("kb show --json: exit %d, %+v\n%s%s", code, a, out, errOut)
	}
	if out, _, code = ts.runCmd(viewer, "kb"); code != 0 || !strings.Contains(out, "KB-1  workaround  VPN  VPN drops every hour  solved 1") {
		t.Errorf("kb: exit %d\n%s", code, out)
	}
	if _, errOut, code = ts.runCmd(op, "kb retire KB-1"); code == 0 {
		t.Errorf("retired without a reason: %s", errOut)
	}
	if _, errOut, code = ts.runCmd(op, "kb retire KB-1 the supplier fixed the rekeying"); code != 0 {
		t.Fatalf("kb retire: exit %d %s", code, errOut)
	}
	if out, _, _ = ts.runCmd(viewer, "kb"); !strings.Contains(out, "empty") {
		t.Errorf("a retired article is listed: %s", out)
	}
}
