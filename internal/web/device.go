package web

import "strings"

// deviceName reads a User-Agent header as people name their device: "Chrome on Linux",
// "Safari on iPhone". A part it does not recognise is left out; with neither part known it
// says "Unknown device". Order matters in both tables: browsers built on another's engine
// also name that one (Edge says Chrome and Safari, Chrome says Safari).
func deviceName(ua string) string {
	browser := firstMatch(ua, browsers)
	system := firstMatch(ua, systems)
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return "Browser on " + system
	}
	return "Unknown device"
}

type uaToken struct{ token, name string }

var browsers = []uaToken{
	{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"},
	{"OPR/", "Opera"}, {"SamsungBrowser/", "Samsung Internet"},
	{"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
	{"CriOS/", "Chrome"}, {"Chromium/", "Chromium"}, {"Chrome/", "Chrome"},
	{"Safari/", "Safari"},
	{"curl/", "curl"}, {"Go-http-client/", "Go program"},
}

var systems = []uaToken{
	{"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Android", "Android"},
	{"CrOS", "ChromeOS"}, {"Windows", "Windows"}, {"Macintosh", "macOS"}, {"Mac OS X", "macOS"},
	{"Linux", "Linux"},
}

func firstMatch(ua string, table []uaToken) string {
	for _, t := range table {
		if strings.Contains(ua, t.token) {
			return t.name
		}
	}
	return ""
}
