package slaengine

import (
	"strings"
	"testing"
	"time"
)

func TestUpdateCadenceBorgerDK(t *testing.T) {
	u := DefaultUpdateCadence(nil)
	cph := mustLoc(t, "Europe/Copenhagen")
	at := func(m time.Month, d, h, min int) time.Time { return time.Date(2026, m, d, h, min, 0, 0, cph) }
	for _, c := range []struct{ last, want time.Time }{
		{at(12, 7, 9, 15), at(12, 7, 10, 15)},  // Monday morning: hourly
		{at(12, 7, 20, 30), at(12, 7, 21, 30)}, // evening, still within 08-22
		{at(12, 7, 21, 30), at(12, 8, 8, 0)},   // 22:30 is outside: next morning 08:00
		{at(12, 8, 2, 0), at(12, 8, 8, 0)},     // a night-time declaration: 08:00 the same morning
		{at(12, 12, 11, 0), at(12, 12, 12, 0)}, // Saturday 10-20
		{at(12, 12, 19, 30), at(12, 13, 8, 0)}, // Saturday 20:30: Sunday 08:00 (the table's "following day at 8")
		{at(12, 12, 8, 30), at(12, 13, 8, 0)},  // Saturday 09:30 is before the weekend's hours: next morning
		{at(5, 14, 12, 0), at(5, 14, 13, 0)},   // Ascension Day follows the weekend (10-20)
		{at(5, 14, 20, 0), at(5, 15, 8, 0)},    // ...so 21:00 is outside
		{at(5, 13, 20, 0), at(5, 13, 21, 0)},   // the working day before: until 22
		{at(3, 28, 19, 30), at(3, 29, 8, 0)},   // Saturday before summer time: Sunday 08:00 CEST
	} {
		if got := u.Next(c.last); !got.Equal(c.want) {
			t.Errorf("after an update at %s: next %s, want %s", c.last.Format("Mon 02 Jan 15:04"), got.In(cph).Format("Mon 02 Jan 15:04 MST"), c.want.Format("Mon 02 Jan 15:04 MST"))
		}
	}
}

func TestCompileCadence(t *testing.T) {
	u, err := Spec{}.CompileCadence(CadenceSpec{Every: "30m", Morning: "07:30", Hours: map[string]string{"mon-sun": "07:00-23:00"}}, specOpts)
	if err != nil {
		t.Fatal(err)
	}
	cph := mustLoc(t, "Europe/Copenhagen")
	if got := u.Next(time.Date(2026, 12, 13, 22, 0, 0, 0, cph)); !got.Equal(time.Date(2026, 12, 13, 22, 30, 0, 0, cph)) {
		t.Errorf("Sunday 22:00 + 30m = %s", got)
	}
	if got := u.Next(time.Date(2026, 12, 13, 22, 45, 0, 0, cph)); !got.Equal(time.Date(2026, 12, 14, 7, 30, 0, 0, cph)) {
		t.Errorf("after 23:00: %s, want 07:30", got)
	}
	for _, c := range []struct {
		s   CadenceSpec
		key string
	}{{CadenceSpec{Every: "often"}, "major.every"}, {CadenceSpec{Morning: "8:75"}, "major.morning"}, {CadenceSpec{Hours: map[string]string{"weekdays": "08:00-22:00"}}, "major.hours.weekdays"}, {CadenceSpec{Calendar: "mars"}, "major.calendar"}} {
		_, err := Spec{}.CompileCadence(c.s, specOpts)
		if se, ok := err.(*SpecError); !ok || se.Key != c.key || strings.TrimSpace(se.Msg) == "" {
			t.Errorf("%+v: %v, want an error at %s", c.s, err, c.key)
		}
	}
}
