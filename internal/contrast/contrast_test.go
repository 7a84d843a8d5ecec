package contrast_test

import (
	"math"
	"testing"

	"github.com/twofold-id/twofold/internal/contrast"
)

func TestRatio(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want float64
	}{
		{"#000000", "#ffffff", 21},
		{"#fff", "#fff", 1},
		{"#777777", "#ffffff", 4.48}, // the grey WCAG examples fail by a hair
		{"#1f5fbf", "#ffffff", 6.09},
	} {
		got, err := contrast.Ratio(tc.a, tc.b)
		if err != nil || math.Abs(got-tc.want) > 0.01 {
			t.Errorf("Ratio(%s, %s) = %.2f, %v; want %.2f", tc.a, tc.b, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "red", "#12345", "#ggggga", "1f5fbf"} {
		if _, err := contrast.Ratio(bad, "#fff"); err == nil {
			t.Errorf("Ratio(%q) accepted", bad)
		}
	}
}
