package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/deskhq/desk/board"
	"github.com/deskhq/desk/slaengine"
	"github.com/deskhq/desk/store"
)

// desk is a console session on a real store, driven by keys.
type desk struct {
	t     *testing.T
	wait  time.Duration // how long a command may take to count as part of a step
	st    *store.Store
	board *Board
	m     *Model
}

func newDesk(t *testing.T, o Options, tickets ...store.NewTicket) *desk {
	t.Helper()
	return newDeskAt(t, nil, o, tickets...)
}

// newDeskAt is newDesk on a clock of the test's (nil: the wall clock): the
// store, the board and the session all read it.
func newDeskAt(t *testing.T, clock func() time.Time, o Options, tickets ...store.NewTicket) *desk {
	t.Helper()
	st := openStore(t, clock)
	for _, nt := range tickets {
		if _, err := st.Create("test", nt); err != nil {
			t.Fatal(err)
		}
	}
	return attachDesk(t, st, clock, o)
}

// openStore is an empty store in a temporary directory, closed at the end
// of the test.
func openStore(t *testing.T, clock func() time.Time) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{Policy: slaengine.DefaultPolicy(slaengine.DefaultBusinessCalendar()), MailDomain: "desk.test", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// attachDesk opens a board and a session at 80x24 on st.
func attachDesk(t *testing.T, st *store.Store, clock func() time.Time, o Options) *desk {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	b, err := board.New(ctx, st, clock)
	if err != nil {
		t.Fatal(err)
	}
	o.Store, o.Board = st, b
	if clock != nil && o.Now == nil {
		o.Now = clock
	}
	if o.Operator == "" {
		o.Operator = "mette"
	}
	if o.Role == "" {
		o.Role = RoleOperator
	}
	if o.Operators == nil {
		o.Operators = []string{"mette", "pieter"}
	}
	if o.Teams == nil {
		o.Teams = []Team{{Name: "operations", Description: "ops supplier"}, {Name: "application"}}
	}
	d := &desk{t: t, st: st, board: b, m: New(o), wait: stepWait}
	t.Cleanup(d.m.Close)
	d.resize(80, 24)
	return d
}

// stepWait is how long a command may take to count as part of a key's
// step: store writes on a loaded CI machine can take a while; what blocks
// longer is a board wait (the console's cursors do not blink).
const stepWait = 1500 * time.Millisecond

// send delivers msg and runs the commands it returns (store writes, detail
// loads) until they settle, feeding their results back like the runtime.
func (d *desk) send(msg tea.Msg) {
	d.t.Helper()
	_, cmd := d.m.Update(msg)
	d.run(cmd, 0)
}

func (d *desk) run(cmd tea.Cmd, depth int) {
	if cmd == nil || depth > 8 {
		return
	}
	for _, msg := range collect(cmd, d.wait) {
		switch msg.(type) {
		case tickMsg, boardMsg:
			// the clock and the board are driven explicitly by the tests
		default:
			_, next := d.m.Update(msg)
			d.run(next, depth+1)
		}
	}
}

// collect runs a command (a batch at once, in parallel) and returns the
// messages that arrive within a short wait; the rest are ticks, cursor
// blinks and board waits, which are not part of a test step.
func collect(cmd tea.Cmd, wait time.Duration) []tea.Msg {
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-time.After(wait):
		return nil
	}
	batch, ok := msg.(tea.BatchMsg)
	if !ok {
		if msg == nil {
			return nil
		}
		return []tea.Msg{msg}
	}
	results := make([][]tea.Msg, len(batch))
	var wg sync.WaitGroup
	for i, c := range batch {
		if c == nil {
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); results[i] = collect(c, wait) }()
	}
	wg.Wait()
	var out []tea.Msg
	for _, r := range results {
		out = append(out, r...)
	}
	return out
}

// resize is the terminal changing size, and the frame drawn for it (keys
// act only once a screen is out).
func (d *desk) resize(w, h int) {
	d.t.Helper()
	d.send(tea.WindowSizeMsg{Width: w, Height: h})
	d.m.View()
}

// key is one key press as the v2 input parser delivers it.
func press(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "ctrl+s":
		return tea.KeyPressMsg{Code: 's', Mod: tea.ModCtrl}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: string(r)}
}

func (d *desk) keys(keys ...string) {
	d.t.Helper()
	for _, k := range keys {
		d.send(press(k))
	}
}

// typeText types s one rune at a time, as a terminal delivers it.
func (d *desk) typeText(s string) {
	// Typing does no I/O: nothing to wait for.
	d.wait = 20 * time.Millisecond
	defer func() { d.wait = stepWait }()
	for _, r := range s {
		d.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// sync waits until the board has seen every write so far and hands the new
// snapshot to the session, as the board's wake-up would.
func (d *desk) sync() {
	d.t.Helper()
	want := 0
	if err := d.st.Tickets(func(t store.Ticket) bool { want += t.Events; return true }); err != nil {
		d.t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := 0
		d.board.Snapshot().Rows.Range(0, func(_ int, r *Row) bool { got += r.T.Events; return true })
		if got == want {
			break
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("board did not catch up: %d of %d events", got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
	d.send(boardMsg{})
}

func (d *desk) screen() string { return ansi.Strip(d.m.View().Content) }

func (d *desk) wantScreen(parts ...string) {
	d.t.Helper()
	s := d.screen()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			d.t.Fatalf("screen lacks %q:\n%s", p, s)
		}
	}
}

func (d *desk) get(id store.TicketID) store.Ticket {
	d.t.Helper()
	t, err := d.st.Get(id)
	if err != nil {
		d.t.Fatal(err)
	}
	return t
}

func ticket(subject, name string, p store.Priority) store.NewTicket {
	email := strings.ToLower(strings.Fields(name)[0]) + "@example.dk"
	return store.NewTicket{Type: store.Incident, Priority: p, Subject: subject, Queue: "2nd-line",
		Requester: store.Person{Name: name, Email: email, Organisation: "Aarhus Kommune"}}
}

func TestListShowsTicketsMostUrgentFirst(t *testing.T) {
	d := newDesk(t, Options{},
		ticket("Printer jam on floor 3", "Jens Hansen", 4),
		ticket("borger.dk login down", "Søren Østergård", 1),
		ticket("VPN slow", "Anna Berg", 3),
	)
	s := d.screen()
	lines := strings.Split(s, "\n")
	if len(lines) != 24 {
		t.Fatalf("screen has %d lines, want 24", len(lines))
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > 80 {
			t.Errorf("line %d is %d cells wide: %q", i, w, l)
		}
	}
	p1 := strings.Index(s, "SD-2")
	p3 := strings.Index(s, "SD-3")
	p4 := strings.Index(s, "SD-1")
	if !(p1 >= 0 && p1 < p3 && p3 < p4) {
		t.Fatalf("want SD-2 (P1) before SD-3 (P3) before SD-1 (P4):\n%s", s)
	}
	d.wantScreen("Søren Østergård", "All open 3")
	// P1's first response is 15 minutes on the 24x7 calendar.
	if !strings.Contains(s, "P1 INC new           15m") && !strings.Contains(s, "P1 INC new           14m") {
		t.Fatalf("P1 countdown is not 15m or 14m:\n%s", s)
	}
}

func TestPriorityKeyChangesStoreAndScreen(t *testing.T) {
	d := newDesk(t, Options{}, ticket("VPN slow", "Anna Berg", 3))
	d.keys("1")
	if got := d.get(1).Priority; got != 1 {
		t.Fatalf("priority in store = %v, want P1", got)
	}
	d.sync()
	d.wantScreen("SD-1 priority P3 → P1", "P1 INC")
	h, _ := d.st.History(1)
	last := h[len(h)-1]
	if last.Kind == store.EvMajor {
		// A P1 incident declares a major incident in the same write.
		last = h[len(h)-2]
	}
	if last.Kind != store.EvField || last.Field != "priority" || last.Actor != "mette" || last.From != "P3" || last.To != "P1" {
		t.Fatalf("last event = %+v, want priority P3→P1 by mette", last)
	}
}

func TestFilterNarrowsTheList(t *testing.T) {
	d := newDesk(t, Options{},
		ticket("Printer jam", "Jens Hansen", 3),
		ticket("Login fails with MitID", "Søren Østergård", 3),
		ticket("MitID app crash", "Anna Berg", 2),
	)
	d.keys("/")
	d.typeText("mitid")
	d.keys("enter")
	s := d.screen()
	if strings.Contains(s, "Printer jam") {
		t.Fatalf("filtered list still shows the printer ticket:\n%s", s)
	}
	d.wantScreen("Login fails with MitID", "MitID app crash", "/mitid")
	// by requester, case-insensitive and non-ASCII
	d.keys("esc", "/")
	d.typeText("østergå")
	d.keys("enter")
	s = d.screen()
	if strings.Contains(s, "MitID app crash") || !strings.Contains(s, "Login fails") {
		t.Fatalf("requester filter wrong:\n%s", s)
	}
	d.keys("esc")
	d.wantScreen("Printer jam", "filter cleared")
}

func TestOpenDetailAndAddNote(t *testing.T) {
	nt := ticket("Digital Post delayed", "Anna Berg", 2)
	nt.Message = &store.Message{From: nt.Requester, Subject: nt.Subject, Body: "Letters arrive 4 hours late."}
	nt.Inbound = true
	d := newDesk(t, Options{}, nt)
	d.keys("enter")
	d.wantScreen("SD-1  Digital Post delayed", "response", "resolution", "Letters arrive 4 hours late.", "Anna Berg <anna@example.dk>")
	d.keys("n")
	d.wantScreen("Internal note on SD-1")
	d.typeText("Supplier confirms a queue backlog.")
	d.keys("ctrl+s")
	h, err := d.st.History(1)
	if err != nil {
		t.Fatal(err)
	}
	last := h[len(h)-1]
	if last.Kind != store.EvNote || last.Text != "Supplier confirms a queue backlog." || last.Actor != "mette" {
		t.Fatalf("last event = %+v, want the note by mette", last)
	}
	d.wantScreen("SD-1 note added", "Supplier confirms a queue backlog.")
}

func TestReplyIsStoredAsOutboundMessageAndQueued(t *testing.T) {
	d := newDesk(t, Options{}, ticket("VPN slow", "Anna Berg", 3))
	d.keys("r")
	d.typeText("We are on it.")
	d.keys("ctrl+s")
	tk := d.get(1)
	if tk.Responded.IsZero() {
		t.Fatal("a reply must stop the first-response clock")
	}
	if tk.Status != store.StatusOpen {
		t.Fatalf("status after the first reply = %s, want open", tk.Status)
	}
	out, err := d.st.OutboxAll(10)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].To[0] != "anna@example.dk" || !strings.Contains(out[0].Subject, "[SD-1]") || out[0].Body != "We are on it." {
		t.Fatalf("outbox = %+v, want one reply to anna tagged [SD-1]", out)
	}
}

func TestAssignStatusEscalateAndMaster(t *testing.T) {
	d := newDesk(t, Options{}, ticket("Login down", "Anna Berg", 1), ticket("Login down too", "Jens Hansen", 1))
	// SD-1 and SD-2 have the same deadline order by id: cursor on SD-1.
	d.keys("a", "enter") // first option: me
	if got := d.get(1).Assignee; got != "mette" {
		t.Fatalf("assignee = %q, want mette", got)
	}
	d.keys("e", "enter") // first team
	tk := d.get(1)
	if tk.Team != "operations" || tk.Status != store.StatusEscalated {
		t.Fatalf("after escalate: team %q status %s", tk.Team, tk.Status)
	}
	d.keys("s")
	d.wantScreen("Status of SD-1", "on the requester (clocks paused)")
	d.typeText("w") // jump to waiting
	d.keys("enter")
	if got := d.get(1).Status; got != store.StatusWaiting {
		t.Fatalf("status = %s, want waiting", got)
	}
	d.sync()
	// SD-1 waits now (paused clock), so SD-2 leads the list; open it by number.
	d.keys(":")
	d.typeText("SD-2")
	d.keys("enter")
	d.wantScreen("SD-2  Login down too")
	d.keys("m")
	d.typeText("1")
	d.keys("enter")
	if got := d.get(2).Master; got != 1 {
		t.Fatalf("SD-2 master = %v, want SD-1", got)
	}
	if l := d.get(1).Links; len(l) != 1 || l[0].Kind != "child" || l[0].To != 2 {
		t.Fatalf("SD-1 links = %+v, want child SD-2", l)
	}
}

func TestViewerIsRefusedWithAReason(t *testing.T) {
	d := newDesk(t, Options{Operator: "nina", Role: RoleViewer}, ticket("VPN slow", "Anna Berg", 3))
	for _, k := range []string{"1", "n", "r", "a", "s", "c"} {
		d.keys(k)
		d.wantScreen("read-only: nina is a viewer")
		d.keys("esc")
	}
	if got := d.get(1); got.Priority != 3 || got.Events != 1 {
		t.Fatalf("a viewer changed the ticket: %+v", got)
	}
}

func TestSecondEditorIsToldInsteadOfOverwriting(t *testing.T) {
	d := newDesk(t, Options{}, ticket("VPN slow", "Anna Berg", 3))
	// Someone else sets P2 after this session's snapshot was taken.
	if _, err := d.st.Update(1, "pieter", func(store.Ticket) ([]store.Event, error) {
		return []store.Event{{Kind: store.EvField, Field: "priority", From: "P3", To: "P2"}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	d.keys("4") // this operator still sees P3
	if got := d.get(1).Priority; got != 2 {
		t.Fatalf("priority = %v: the second edit overwrote the first silently", got)
	}
	d.wantScreen("pieter set priority to P2 meanwhile; press again to override")
}

func TestNewTicketByHand(t *testing.T) {
	d := newDesk(t, Options{Queues: []string{"2nd-line"}})
	d.keys("c")
	d.wantScreen("New ticket (phone call or walk-in)")
	d.typeText("Dorthe Hjælmsø")
	d.keys("tab")
	d.typeText("dh@laegehuset-ry.dk")
	d.keys("tab")
	d.typeText("Lægehuset Ry")
	d.keys("tab")
	d.typeText("FMK shows no prescriptions")
	d.keys("tab", "tab") // type stays incident; to priority
	d.typeText("2")
	d.keys("tab", "tab") // queue, description
	d.typeText("Since 10:00, all patients.")
	d.keys("ctrl+s")
	tk := d.get(1)
	if tk.Subject != "FMK shows no prescriptions" || tk.Priority != 2 || tk.Requester.Name != "Dorthe Hjælmsø" || tk.Queue != "2nd-line" {
		t.Fatalf("registered %+v", tk)
	}
	d.wantScreen("SD-1 registered")
}

func TestHostileTextNeverReachesTheTerminal(t *testing.T) {
	nt := ticket("Invoice \x1b[2J\x1b]0;owned\x07 overdue\u202e", "Eve \x1b[31mRed", 3)
	nt.Message = &store.Message{Body: "line1\x1b[1;1Hgotcha\x07"}
	d := newDesk(t, Options{}, nt)
	for _, v := range []string{d.m.View().Content, func() string { d.keys("enter"); return d.m.View().Content }()} {
		if strings.ContainsAny(v, "\x07\u202e") || strings.Contains(v, "\x1b]") || strings.Contains(v, "\x1b[2J") || strings.Contains(v, "\x1b[1;1H") {
			t.Fatalf("escape sequence reached the screen: %q", v)
		}
	}
	d.wantScreen("Invoice  overdue", "line1gotcha")
}

func TestHelpListsEveryKey(t *testing.T) {
	d := newDesk(t, Options{})
	d.send(tea.WindowSizeMsg{Width: 100, Height: 60})
	d.keys("?")
	s := d.screen()
	km := newKeyMap()
	for _, g := range km.FullHelp() {
		for _, b := range g {
			if !strings.Contains(s, b.Help().Desc) {
				t.Errorf("help lacks %q (%s)", b.Help().Desc, b.Help().Key)
			}
		}
	}
	d.keys("?")
	if strings.Contains(d.screen(), "every key") {
		t.Fatal("? did not close help")
	}
	// Every help line fits 80 columns: nothing is cut off on a small terminal.
	for _, l := range strings.Split(ansi.Strip(helpView(d.m.styles, &d.m.keys)), "\n") {
		if w := ansi.StringWidth(l); w > 80 {
			t.Errorf("help line is %d wide: %q", w, l)
		}
	}
	// At 80x24 help is longer than the screen: it scrolls.
	d.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	d.keys("?")
	if strings.Contains(d.screen(), "SLA column") {
		t.Fatal("help fits in 24 lines? then this test needs a longer help")
	}
	d.keys("G")
	d.wantScreen("SLA column", "paused")
	d.keys("esc")
	if strings.Contains(d.screen(), "every key") {
		t.Fatal("? did not close help")
	}
}

func TestLayoutAtManySizes(t *testing.T) {
	var nts []store.NewTicket
	for i := range 40 {
		nts = append(nts, ticket(fmt.Sprintf("Ticket number %d with a long subject that will not fit", i), "Jørgen Ærøe", store.Priority(i%4+1)))
	}
	d := newDesk(t, Options{}, nts...)
	for _, sz := range [][2]int{{80, 24}, {300, 80}, {140, 30}, {40, 10}} {
		d.send(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		lines := strings.Split(d.screen(), "\n")
		if len(lines) != sz[1] {
			t.Errorf("%dx%d: %d lines", sz[0], sz[1], len(lines))
		}
		for i, l := range lines {
			if w := ansi.StringWidth(l); w > sz[0] {
				t.Errorf("%dx%d: line %d is %d wide", sz[0], sz[1], i, w)
			}
		}
	}
	// wide: list and detail side by side, the detail follows the cursor
	d.send(tea.WindowSizeMsg{Width: 300, Height: 40})
	d.keys("j")
	d.wantScreen("QUEUE", "ASSIGNEE", "history")
}

func TestLiveUpdateFromAnotherWriter(t *testing.T) {
	d := newDesk(t, Options{}, ticket("VPN slow", "Anna Berg", 3))
	if _, err := d.st.Create("mail", ticket("Mail server rejects attachments", "Jens Hansen", 2)); err != nil {
		t.Fatal(err)
	}
	d.sync()
	d.wantScreen("Mail server rejects", "All open 2")
}

func TestMasterLinksCannotLoop(t *testing.T) {
	d := newDesk(t, Options{}, ticket("Login down", "Anna Berg", 3), ticket("Login down too", "Jens Hansen", 3))
	d.keys(":")
	d.typeText("SD-2")
	d.keys("enter", "m")
	d.typeText("1")
	d.keys("enter")
	if d.get(2).Master != 1 {
		t.Fatal("SD-2 was not linked under SD-1")
	}
	d.keys(":")
	d.typeText("SD-1")
	d.keys("enter", "m")
	d.typeText("2")
	d.keys("enter")
	if got := d.get(1).Master; got != 0 {
		t.Fatalf("SD-1 master = %v: the two are now each other's master", got)
	}
	d.wantScreen("links may not loop")
}

func TestQuitWithDraftsAsksTwice(t *testing.T) {
	d := newDesk(t, Options{}, ticket("VPN slow", "Anna Berg", 3))
	d.keys("r")
	d.typeText("Half a reply")
	d.keys("esc")
	_, cmd := d.m.Update(press("q"))
	if cmd != nil {
		if _, ok := cmd().(tea.QuitMsg); ok {
			t.Fatal("q quit with an unsent draft")
		}
	}
	d.wantScreen("unsent drafts on SD-1 (reply)")
	d.keys("r")
	d.wantScreen("Half a reply") // the draft comes back
	d.keys("esc")
	d.m.Update(press("q"))
	_, cmd = d.m.Update(press("q"))
	if cmd == nil {
		t.Fatal("a second q did not quit")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("a second q did not quit")
	}
}

func TestStatusPickerDoesNotWrap(t *testing.T) {
	d := newDesk(t, Options{}, ticket("VPN slow", "Anna Berg", 3))
	d.keys("s", "G") // G is not a picker key; walk down past the end instead
	for range 12 {
		d.keys("j")
	}
	d.keys("enter")
	// closed, the last option (no wrap to new); never resolved, so it asks
	// for the resolution first
	d.wantScreen("Close SD-1: it was never resolved")
	if got := d.get(1).Status; got != store.StatusNew {
		t.Fatalf("status = %s before the resolution was written", got)
	}
	d.typeText("Duplicate of SD-7, fixed there.")
	d.keys("ctrl+s")
	if got := d.get(1).Status; got != store.StatusClosed {
		t.Fatalf("status = %s, want closed", got)
	}
	out, _ := d.st.OutboxAll(5)
	if len(out) != 1 || out[0].Body != "Duplicate of SD-7, fixed there." {
		t.Fatalf("outbox %+v, want the resolution mailed", out)
	}
}

func TestRespondedOpensAndQueueMustExist(t *testing.T) {
	d := newDesk(t, Options{Queues: []string{"2nd-line", "FMK"}}, ticket("VPN slow", "Anna Berg", 3))
	d.keys("R")
	if tk := d.get(1); tk.Responded.IsZero() || tk.Status != store.StatusOpen {
		t.Fatalf("after R: responded %v status %s", tk.Responded, tk.Status)
	}
	d.keys(":")
	d.typeText("queue Nowhere")
	d.keys("enter")
	d.wantScreen(`no queue named "Nowhere"`)
	d.keys(":")
	d.typeText("queue FMK")
	d.keys("enter")
	d.wantScreen("queue:FMK", "no tickets here")
	d.keys("esc")
	d.wantScreen("VPN slow")
	d.keys(":")
	d.typeText("move FMK")
	d.keys("enter")
	if got := d.get(1).Queue; got != "FMK" {
		t.Fatalf("queue after :move FMK = %q", got)
	}
}

func TestPhoneFormKeepsItsDraftAndOpensTheNewTicket(t *testing.T) {
	d := newDesk(t, Options{})
	d.keys("c")
	d.typeText("Dorthe")
	d.keys("esc", "c")
	d.wantScreen("Dorthe")
	d.keys("tab", "tab", "tab")
	d.typeText("FMK down")
	d.keys("ctrl+s")
	d.wantScreen("SD-1  FMK down", "SD-1 registered")
	d.keys("esc", "c")
	if strings.Contains(d.screen(), "Dorthe") {
		t.Fatal("the form still holds the registered ticket")
	}
}

func TestResolvingAMasterResolvesItsChildren(t *testing.T) {
	d := newDesk(t, Options{}, ticket("MitID down", "Anna Berg", 1), ticket("Cannot log in", "Jens Hansen", 2), ticket("Login error", "Søren Østergård", 2))
	for _, child := range []string{"SD-2", "SD-3"} {
		d.keys(":")
		d.typeText(child)
		d.keys("enter", "m")
		d.typeText("1")
		d.keys("enter", "q")
	}
	d.keys(":")
	d.typeText("SD-1")
	d.keys("enter", "s")
	d.typeText("r") // resolved
	d.keys("enter")
	d.wantScreen("Resolve SD-1")
	d.typeText("The identity provider was restarted.")
	d.keys("ctrl+s")
	for _, id := range []store.TicketID{1, 2, 3} {
		if got := d.get(id).Status; got != store.StatusResolved {
			t.Errorf("SD-%d status = %s, want resolved", id, got)
		}
	}
	out, err := d.st.OutboxAll(10)
	if err != nil {
		t.Fatal(err)
	}
	to := map[string]bool{}
	for _, o := range out {
		if o.Body == "The identity provider was restarted." {
			to[o.To[0]] = true
		}
	}
	if !to["anna@example.dk"] || !to["jens@example.dk"] || !to["søren@example.dk"] {
		t.Fatalf("resolution mailed to %v, want all three requesters", to)
	}
	d.wantScreen("resolved with 2 linked ticket(s)")
}

func TestPickerActsOnTheTicketItWasOpenedFor(t *testing.T) {
	d := newDesk(t, Options{}, ticket("Printer", "Anna Berg", 3), ticket("VPN", "Jens Hansen", 3))
	d.keys("[", "[") // Unassigned
	d.wantScreen("[Unassigned 2]")
	d.keys("a") // picker for SD-1
	d.wantScreen("Assign SD-1 to")
	// Meanwhile pieter takes SD-1: it leaves this queue and the cursor lands on SD-2.
	if _, err := d.st.Update(1, "pieter", func(store.Ticket) ([]store.Event, error) {
		return []store.Event{{Kind: store.EvField, Field: "assignee", To: "pieter"}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	d.sync()
	d.keys("enter") // "me"
	if got := d.get(2).Assignee; got != "" {
		t.Fatalf("SD-2 was assigned to %q: the choice landed on the wrong ticket", got)
	}
	if got := d.get(1).Assignee; got != "pieter" {
		t.Fatalf("SD-1 assignee = %q: pieter's change was overwritten silently", got)
	}
	d.wantScreen("pieter set assignee to pieter meanwhile")
}

func TestCountdownRepaintsWhenItsTextChanges(t *testing.T) {
	d := newDesk(t, Options{}, ticket("Core switch down", "Anna Berg", 1))
	before := d.screen()
	if !strings.Contains(before, "15m") && !strings.Contains(before, "14m") {
		t.Fatalf("no P1 countdown:\n%s", before)
	}
	// Three minutes later (the rows are cached while their text stays).
	d.send(tickMsg(d.m.now.Add(3 * time.Minute)))
	after := d.screen()
	// the row itself, not the status line's "next SD-1 12m"
	if !strings.Contains(after, "INC new           12m") && !strings.Contains(after, "INC new           11m") {
		t.Fatalf("the row's countdown did not move after 3 minutes:\n%s", after)
	}
	// Nine more (about 3 minutes left): warning, with its marker and seconds.
	d.send(tickMsg(d.m.now.Add(9 * time.Minute)))
	if s := d.screen(); !strings.Contains(s, "INC new        *2m") && !strings.Contains(s, "INC new        *3m") {
		t.Fatalf("no warning countdown with seconds near the breach:\n%s", s)
	}
}

// A P2 lowered to P3 still needs an approved incident report to close: the
// console says why, I writes the report, A (a lead) approves it, and then
// the close goes through. The console decides none of it: the store does.
func TestMajorIncidentCloseNeedsApprovedReport(t *testing.T) {
	d := newDesk(t, Options{Role: RoleLead}, ticket("Portal down", "Anna Berg", 2))
	d.st.SetRoles(map[string]Role{"mette": RoleLead})
	d.keys("enter", "3")
	d.wantScreen("priority P2 → P3", "report", "(was P2) none yet")
	d.keys("s")
	d.typeText("r") // resolved
	d.keys("enter")
	d.typeText("Certificate renewed.")
	d.keys("ctrl+s")
	if got := d.get(1).Status; got != store.StatusResolved {
		t.Fatalf("status %s, want resolved", got)
	}
	d.keys("s")
	d.typeText("c") // closed
	d.keys("enter")
	d.wantScreen("needs an approved incident report")
	if got := d.get(1).Status; got != store.StatusResolved {
		t.Fatalf("closed without a report: %s", got)
	}
	d.keys("I")
	d.wantScreen("Incident report on SD-1", "Summary:", "Root cause:")
	d.typeText("Portal unreachable 40 min")
	d.keys("ctrl+s")
	// The template: the subject as summary (typed on), the organisation
	// in the impact, the timeline from the history.
	if r := d.get(1).Report; r == nil || r.Summary != "Portal downPortal unreachable 40 min" || r.Author != "mette" ||
		r.Impact != "Reported by Aarhus Kommune." || !strings.Contains(r.Timeline, "registered as P2 incident (test)") ||
		!strings.Contains(r.Timeline, "priority P2 → P3 (mette)") || !strings.Contains(r.Timeline, "status new → resolved (mette)") {
		t.Fatalf("report %+v", r)
	}
	d.keys("A")
	d.wantScreen("incident report approved")
	d.keys("s")
	d.typeText("c")
	d.keys("enter")
	if got := d.get(1).Status; got != store.StatusClosed {
		t.Fatalf("status %s after approval, want closed", got)
	}
}

// A viewer's key is refused by the console at once, and the store refuses
// the same write whoever sends it.
func TestViewerCannotWrite(t *testing.T) {
	d := newDesk(t, Options{Role: RoleViewer, Operator: "vic"}, ticket("VPN slow", "Anna Berg", 3))
	d.st.SetRoles(map[string]Role{"vic": RoleViewer})
	d.keys("1")
	d.wantScreen("read-only: vic is a viewer")
	if _, err := d.st.SetField(1, "vic", store.FieldPriority, "P3", "P1"); !errors.Is(err, store.ErrRefused) {
		t.Fatalf("the store let a viewer write: %v", err)
	}
	if got := d.get(1).Priority; got != 3 {
		t.Fatalf("priority %s", got)
	}
}

func TestReferenceAndReopenCommands(t *testing.T) {
	d := newDesk(t, Options{}, ticket("VPN slow", "Anna Berg", 3))
	d.keys("enter", ":")
	d.typeText("ref jira:NSP-123")
	d.keys("enter")
	d.wantScreen("reference jira:NSP-123 added", "external", "jira:NSP-123")
	d.keys(":")
	d.typeText("ref NSP 123")
	d.keys("enter")
	d.wantScreen("SYSTEM:ID")
	if _, _, err := d.st.Resolve(1, "pieter", "fixed"); err != nil {
		t.Fatal(err)
	}
	d.keys(":")
	d.typeText("reopen still slow")
	d.keys("enter")
	if got := d.get(1); got.Status != store.StatusOpen || !slices.Contains(got.External, "jira:NSP-123") {
		t.Fatalf("after :reopen: %s %v", got.Status, got.External)
	}
}

func TestQuarantineDropAndRelease(t *testing.T) {
	d := newDesk(t, Options{Role: RoleLead})
	d.st.SetRoles(map[string]Role{"mette": RoleLead})
	for i := range 2 {
		if _, err := d.st.Quarantine(store.Quarantined{Key: fmt.Sprint(i), From: "x@y.org", Subject: "held", Reason: "policy", Raw: []byte("x")}, store.Checkpoint{}); err != nil {
			t.Fatal(err)
		}
	}
	d.m.o.ReleaseMail = func(id uint64, actor string) (store.Ticket, error) {
		return d.st.ReleaseQuarantine(id, actor, store.NewTicket{Subject: "held", Requester: store.Person{Email: "x@y.org"}}, nil)
	}
	d.keys(":")
	d.typeText("drop 1")
	d.keys("enter")
	d.wantScreen(":drop ID REASON")
	d.keys(":")
	d.typeText("drop 1 spam")
	d.keys("enter")
	d.wantScreen("quarantined mail 1 dropped")
	d.keys(":")
	d.typeText("release #2")
	d.keys("enter")
	if q, _ := d.st.QuarantinedMail(2); !q.Released || q.Ticket == 0 {
		t.Fatalf("released: %+v", q)
	}
	d.wantScreen("registered from quarantined mail 2", "held")
}

// Two priority keys faster than the store answers: the second starts from
// the first's result, as the operator meant, not from the stale list.
func TestQuickPriorityKeysActInOrder(t *testing.T) {
	d := newDesk(t, Options{}, ticket("VPN slow", "Anna Berg", 3))
	_, first := d.m.Update(press("2")) // its write is not run yet
	_, second := d.m.Update(press("1"))
	if second != nil {
		t.Fatal("the second key's write started before the first's answer")
	}
	d.run(first, 0) // the answer to 2 builds and runs the write for 1
	if got := d.get(1).Priority; got != 1 {
		t.Fatalf("priority = %v after 2 then 1, want P1", got)
	}
	h, _ := d.st.History(1)
	var changes []string
	for _, e := range h {
		if e.Kind == store.EvField && e.Field == store.FieldPriority {
			changes = append(changes, e.From+"→"+e.To)
		}
	}
	if strings.Join(changes, " ") != "P3→P2 P2→P1" {
		t.Fatalf("priority changes = %v, want P3→P2 then P2→P1", changes)
	}
	d.wantScreen("SD-1 priority P2 → P1")
}
