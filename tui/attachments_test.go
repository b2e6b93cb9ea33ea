package tui

import (
	"strings"
	"testing"

	"github.com/deskhq/desk/store"
)

// attachmentTicket registers a mail with a text log (with an escape
// sequence in it) and a PNG, as the intake does: blobs in the same write.
func attachmentTicket(t *testing.T, st *store.Store) {
	t.Helper()
	nt := ticket("Sync fails", "Anna Berg", 3)
	log := "12:00 sync started\n12:01 \x1b]0;owned\x07error: timeout\x1b[2J\n"
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
	nt.Message = &store.Message{From: nt.Requester, Subject: nt.Subject, Body: "Log and screenshot attached.",
		Attachments: []store.Attachment{{Name: "sync.log", ContentType: "text/plain", Size: int64(len(log)), Blob: "b-log"},
			{Name: "screen.png", ContentType: "image/png", Size: int64(len(png)), Blob: "b-png"}}}
	nt.Inbound = true
	if _, _, err := st.RegisterMail("mail", store.Intake{Key: "<att@example.dk>", New: &nt, Events: nil,
		Blobs: map[string][]byte{"b-log": []byte(log), "b-png": []byte(png)}}); err != nil {
		t.Fatal(err)
	}
}

// TestViewAttachments: v offers a ticket's attachments; a text one opens
// in a page with its escape sequences gone, an image is never drawn, the
// footer says how to save it.
func TestViewAttachments(t *testing.T) {
	st := openStore(t, nil)
	attachmentTicket(t, st)
	d := attachDesk(t, st, nil, Options{})
	d.keys("v")
	d.wantScreen("attachments of SD-1", "1 sync.log", "2 screen.png", "image/png")
	d.keys("enter")
	d.wantScreen("sync.log", "12:00 sync started", "error: timeout")
	if raw := d.m.View().Content; strings.Contains(raw, "\x1b]0;owned") || strings.Contains(raw, "owned\x07") || strings.Contains(raw, "timeout\x1b[2J") {
		t.Fatalf("the attachment's escape sequences reached the terminal:\n%q", raw)
	}
	d.keys("esc", "v", "j", "enter")
	d.wantScreen("screen.png (image/png", "not shown: desk attachment SD-1 2 > FILE saves")
	if s := d.screen(); strings.Contains(s, "IHDR") {
		t.Fatalf("the PNG's bytes are on the screen:\n%s", s)
	}
}
