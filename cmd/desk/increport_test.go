package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

// A resolved P1 without an approved report is due 14 days after its
// resolution and listed as overdue after that; an approved one is not
// listed; the report prints as Markdown for the journal.
func TestIncidentReportsDueAndPrinted(t *testing.T) {
	var now atomic.Int64
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	now.Store(start.UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()).UTC() }
	st, err := store.Open(t.TempDir(), store.Options{Policy: slaengine.DefaultPolicy(nil), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.SetRoles(map[string]store.Role{"lena": store.RoleLead})
	mk := func(subject string, p store.Priority) store.Ticket {
		tk, err := st.Create("dan", store.NewTicket{Type: store.Incident, Priority: p, Queue: "q", Subject: subject, Requester: store.Person{Email: "r@x.dk", Organisation: "Aarhus Kommune"}})
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	p1, p2, p3 := mk("Portal down", 1), mk("Letters late", 2), mk("Printer", 3)
	now.Add(int64(24 * time.Hour))
	for _, tk := range []store.Ticket{p1, p2, p3} {
		if _, _, err := st.Resolve(tk.ID, "dan", "Fixed."); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.ReportIncident(p2.ID, "dan", store.IncidentReport{Summary: "Letters late", RootCause: "queue stuck"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApproveReport(p2.ID, "lena", 1); err != nil {
		t.Fatal(err)
	}
	list := func(at time.Time) []reportDueJSON {
		var b bytes.Buffer
		if err := listReportsDue(st, &b, 14, true, at); err != nil {
			t.Fatal(err)
		}
		var rows []reportDueJSON
		if err := json.Unmarshal(b.Bytes(), &rows); err != nil {
			t.Fatalf("%v: %s", err, b.String())
		}
		return rows
	}
	rows := list(start.AddDate(0, 0, 10))
	if len(rows) != 1 || rows[0].Ticket != p1.ID.String() || rows[0].Overdue || rows[0].State != "none" ||
		!rows[0].Due.Equal(start.AddDate(0, 0, 15)) {
		t.Fatalf("day 10: %+v", rows)
	}
	if rows = list(start.AddDate(0, 0, 16)); len(rows) != 1 || !rows[0].Overdue {
		t.Fatalf("day 16: %+v", rows)
	}
	var b bytes.Buffer
	listReportsDue(st, &b, 14, false, start.AddDate(0, 0, 16))
	if !strings.Contains(b.String(), "SD-1    P1    resolved  not written  2026-11-17 OVERDUE 1d") {
		t.Fatalf("table:\n%s", b.String())
	}

	approved, _ := st.Get(p2.ID)
	b.Reset()
	if err := writeReportMarkdown(&b, approved, approved.Report, time.UTC); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{"# Incident report SD-2: Letters late", "approved by lena", "## Root cause\n\nqueue stuck", "## Impact\n\n_(not written)_"} {
		if !strings.Contains(md, want) {
			t.Fatalf("markdown lacks %q:\n%s", want, md)
		}
	}
}
