package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/deskhq/desk/store"
)

// TestAttachmentCommand: a viewer lists a ticket's attachments over SSH
// and saves one byte for byte; a missing one is named with what there is;
// locally the same, after the server has stopped.
func TestAttachmentCommand(t *testing.T) {
	viewer := newTestOp(t, "vera", "viewer")
	ts := startTestServer(t, []testOp{viewer}, "", serveOptions{})
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x1b[2J")
	nt := store.NewTicket{Subject: "Screenshot", Requester: store.Person{Email: "ann@example.org"}, Inbound: true,
		Message: &store.Message{From: store.Person{Email: "ann@example.org"}, Body: "see attached",
			Attachments: []store.Attachment{{Name: "screen.png", ContentType: "image/png", Size: int64(len(png)), Blob: "png1"},
				{Name: "big.iso", ContentType: "application/octet-stream", Size: 9 << 30}}}}
	if _, _, err := ts.s.st.RegisterMail("mail", store.Intake{Key: "<shot@example.org>", New: &nt, Blobs: map[string][]byte{"png1": png}}); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := ts.runCmd(viewer, "attachment SD-1")
	if code != 0 || !strings.Contains(out, "1  screen.png") || !strings.Contains(out, "content not kept") {
		t.Fatalf("list: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = ts.runCmd(viewer, "attachment SD-1 screen.png")
	if code != 0 || out != string(png) {
		t.Fatalf("save over SSH: exit %d, %q (want the PNG's bytes) %s", code, out, errOut)
	}
	if _, errOut, code = ts.runCmd(viewer, "attachment SD-1 2"); code != 1 || !strings.Contains(errOut, "not kept") {
		t.Errorf("an attachment whose content was not kept: exit %d, %s", code, errOut)
	}
	if _, errOut, code = ts.runCmd(viewer, "attachment SD-1 nope.pdf"); code != 1 || !strings.Contains(errOut, "1 screen.png, 2 big.iso") {
		t.Errorf("a missing attachment: exit %d, %s", code, errOut)
	}
	ts.s.Close()
	var o, e bytes.Buffer
	env := &env{dataDir: ts.e.dataDir, configPath: ts.cfgPath, configSet: true, dataSet: true, stdout: &o, stderr: &e}
	if code := env.runLocal(lookupCommand("attachment"), []string{"SD-1", "1"}); code != 0 || !bytes.Equal(o.Bytes(), png) {
		t.Fatalf("local save: exit %d, %q %s", code, o.String(), e.String())
	}
}
