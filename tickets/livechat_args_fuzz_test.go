package tickets

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard"
)

// FuzzLivechatArgs feeds arbitrary JSON argument lists to every decoder of
// livechat_args.go, as the event handlers call them: each either returns a
// value within its limits or an INVALID_REQUEST that names the argument,
// and never panics. (app's FuzzLivechatEvent sends the same over the wire.)
func FuzzLivechatArgs(f *testing.F) {
	for _, seed := range []string{
		`["t-1",{"ticketId":"t-1","displayNm":"Ann","ticketNm":"Printer"},"user-1"]`,
		`["t-1","m-1",{"content":"hello","type":1,"encoding":"utf-8"},"operator-1"]`,
		`["t-1","m-2",{"content":"data:image/png;base64,iVBORw0KGgo=","type":2},"operator-1"]`,
		`["m-1",3,"operator-1","user-1",false]`,
		`["t-1",{},10000,"user-1"]`,
		`[{"userId":"user-1","fullNm":"Ann","dob":"1990-01-01","latitude":1.5,"longitude":-2}]`,
		`[{"ticketId":"t-1","handleById":null}]`,
		`["",null,1e300,-0.5,{"content":"","type":3}]`,
		`[{"content":"=","type":2},{"content":"data:,","type":2},{"type":"1"}]`,
	} {
		f.Add(seed)
	}
	lim := Limits{MaxText: 64, MaxImage: 48, MaxName: 16}.WithDefaults()
	f.Fuzz(func(t *testing.T, raw string) {
		var a args
		if json.Unmarshal([]byte(raw), &a) != nil {
			return
		}
		for i := range len(a) + 1 {
			if s, err := a.id(i, "id", lim.MaxName); invalidOr(t, err) && (s == "" || len(s) > lim.MaxName) {
				t.Fatalf("id(%v) = %q", a.at(i), s)
			}
			if n, err := a.integer(i, "n"); invalidOr(t, err) && float64(n) != a.at(i).(float64) {
				t.Fatalf("integer(%v) = %d", a.at(i), n)
			}
			obj, err := a.object(i, "object", true)
			if !invalidOr(t, err) {
				continue
			}
			checkObject(t, lim, obj)
		}
	})
}

// checkObject runs the object decoders on every key an object has and
// on the message fields.
func checkObject(t *testing.T, lim Limits, obj map[string]any) {
	t.Helper()
	for key := range obj {
		if s, err := field(obj, key, lim.MaxName); invalidOr(t, err) && len(s) > lim.MaxName {
			t.Fatalf("field %s = %q, longer than %d", key, s, lim.MaxName)
		}
		_, err := optionalNumber(obj, key)
		invalidOr(t, err)
	}
	_, err := profileOf(obj, lim.MaxName)
	invalidOr(t, err)
	in, err := lim.messageInput(obj)
	if !invalidOr(t, err) {
		return
	}
	switch in.Type {
	case 1:
		if in.Content == "" || len(in.Content) > lim.MaxText {
			t.Fatalf("text message of %d bytes accepted", len(in.Content))
		}
	case 2:
		data := in.Content
		if strings.HasPrefix(data, "data:") {
			_, data, _ = strings.Cut(data, ",")
		}
		decoded, err := base64.StdEncoding.DecodeString(data)
		if err != nil || len(decoded) == 0 || len(decoded) > lim.MaxImage {
			t.Fatalf("image %q accepted (%d bytes, %v)", in.Content, len(decoded), err)
		}
	default:
		t.Fatalf("message type %d accepted", in.Type)
	}
}

// invalidOr reports whether err is nil, and fails unless a non-nil err is
// an INVALID_REQUEST with a message.
func invalidOr(t *testing.T, err error) bool {
	t.Helper()
	if err == nil {
		return true
	}
	if switchboard.ErrorCode(err) != switchboard.EINVALID || switchboard.ErrorMessage(err) == "" {
		t.Fatalf("decoder error %v is not a clear INVALID_REQUEST", err)
	}
	return false
}
