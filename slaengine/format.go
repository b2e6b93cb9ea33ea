package slaengine

import (
	"strconv"
	"time"
)

// FormatLeft renders the business time left on a clock for a countdown
// column at most 7 characters wide: "2d 4h", "3h12m", "14m", and seconds
// only in the last 5 minutes before a breach or the first 5 after it
// ("4m07s"). Overdue time carries a minus sign: "-0m12s", "-3h05m". Days
// are plain 24-hour days of the duration, not business days. Under 5
// minutes the seconds are truncated; from 5 minutes on, the minutes are.
// An overdue remainder under a second shows as "-0m00s", so the sign alone
// tells an operator the target is gone.
func FormatLeft(d time.Duration) string { return FormatLeftIn(d, 24*time.Hour) }

// FormatLeftIn is FormatLeft with days of the given length: pass the
// calendar's DayLength so that a P3 clock with two business days left reads
// "2d 0h", not "16h00m" (which an operator would take for wall-clock hours).
// A day of 0 (a calendar without business time) means 24 hours.
func FormatLeftIn(d, day time.Duration) string {
	if day <= 0 {
		day = 24 * time.Hour
	}
	sign := ""
	m := d
	if d < 0 {
		sign = "-"
		if d == -d { // math.MinInt64 has no positive counterpart
			return "-999d+"
		}
		m = -d
	}
	two := func(n int64) string {
		if n < 10 {
			return "0" + strconv.FormatInt(n, 10)
		}
		return strconv.FormatInt(n, 10)
	}
	itoa := func(n int64) string { return strconv.FormatInt(n, 10) }
	switch {
	case m < 5*time.Minute:
		return sign + itoa(int64(m/time.Minute)) + "m" + two(int64(m%time.Minute/time.Second)) + "s"
	case m < time.Hour:
		return sign + itoa(int64(m/time.Minute)) + "m"
	case m < day:
		return sign + itoa(int64(m/time.Hour)) + "h" + two(int64(m%time.Hour/time.Minute)) + "m"
	case m < 10*day:
		return sign + itoa(int64(m/day)) + "d " + itoa(int64(m%day/time.Hour)) + "h"
	case m < 1000*day:
		return sign + itoa(int64(m/day)) + "d"
	}
	return sign + "999d+"
}
