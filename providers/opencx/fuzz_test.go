package opencx

import (
	"bytes"
	"testing"
)

// The seeds run in every plain `go test`; `go test -fuzz FuzzDecodeReply`
// (or FuzzHistory) explores from them.

func FuzzDecodeReply(f *testing.F) {
	for _, seed := range []string{
		// flat
		`{"success":true,"code":"ai_replied","autopilotResponse":{"type":"text","value":{"error":false,"content":"Refund opened: TCK-1"},
		 "id":"m1","mightSolveUserIssue":true,"completelyAndFullyCoveredUserIssue":false,
		 "debugInfo":{"actionCalls":[{"action":{"name":"create_refund_ticket","id":"a1"},"arguments":{"order_id":"ord_42"},"result":{}}],
		 "actionSearchQuery":"refund","knowledge":[{"source":"faq","source_type":"doc","url":"u"}],"knowledge_used":[{"content":"c","source":"faq"}]},
		 "mode":{"id":"1","name":"Refunds","slug":"refunds"},"didExitMode":false},"uiResponse":null,"sessionIsHandedOff":false}`,
		`{"success":true,"code":"session_assigned_to_human_agent","autopilotResponse":null,"sessionIsHandedOff":true}`,
		`{"success":true,"autopilotResponse":{"value":{"error":true,"content":"model overloaded"}}}`,
		// data-wrapped
		`{"success":true,"data":{"autopilotResponse":{"value":{"content":"hello"},"mightSolveUserIssue":false},"sessionIsHandedOff":true}}`,
		`{"success":true,"sessionIsHandedOff":true,"data":{"autopilotResponse":null,"code":"x"}}`,
		// legacy
		`{"ai_response":{"text":"old style"}}`,
		`{"ai_response":{"text":"","error":{"message":"boom"}}}`,
		`{"ai_response":null}`,
		// id only
		`{"success":true,"data":{"message":{"id":"m1"}}}`,
		`{"success":true,"data":{"message":{"id":42}}}`,
		`{"success":true,"data":{"message":{"id":null}}}`,
		`{"success":true,"message":{"id":"m3"}}`,
		// odd but legal, and not legal at all
		`{"autopilotResponse":{"value":{},"mode":null,"debugInfo":null,"mightSolveUserIssue":null}}`,
		`{"autopilotResponse":{"value":{"content":"ok"},"debugInfo":{"actionCalls":[{"action":null,"arguments":"{\"id\":7}"},null],"knowledge":[null,"kb",1]}}}`,
		`{"autopilotResponse":{"value":{"content":"x\ud83d\u0041"},"debugInfo":{"knowledge":["\udc00"]}}}`,
		"{\"autopilotResponse\":{\"value\":{\"content\":\"bad \xff\"}}}",
		`{"autopilotResponse":{"value":"not an object"}}`,
		`{"autopilotResponse":[]}`,
		`{"data":null}`, `{"data":{"data":{"data":{}}}}`, `{}`, `[]`, `null`, `"x"`, ``, `{`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, id, err := DecodeReply(raw)
		switch {
		case err != nil && (r != nil || id != ""):
			t.Fatalf("an error came with a reply or id: %v, %+v, %q", err, r, id)
		case err == nil && (r == nil) == (id == ""):
			t.Fatalf("want exactly one of reply and id, got %+v, %q", r, id)
		case r != nil && !bytes.Equal(r.Raw, raw):
			t.Fatal("Raw must be the body as received")
		}
	})
}

func FuzzHistory(f *testing.F) {
	for _, seed := range []string{
		`{"items":[{"id":"u1","created_at":"2025-01-01T00:00:00Z","event":{"type":"message","sender":{"type":"contact","name":"Ana"},"content":{"type":"text","text":"hi"}}},
		 {"id":"a1","created_at":"2025-01-01T00:00:01Z","event":{"type":"message","sender":{"type":"ai","name":null},"content":{"type":"text","text":"hello"}}}],"next":null}`,
		`{"items":[{"id":"u1","event":{"type":"message","sender":{"type":"contact"}}}],"next":"c1"}`,
		`{"items":[{"id":"h1","event":{"type":"handoff","sender":{"type":"ai"},"content":{"type":"text","text":"summary"}}},
		 {"id":"t1","event":{"type":"human_agent_takeover","sender":{"type":"human_agent","name":"Bo"}}}],"next":null}`,
		`{"data":{"items":[{"id":7,"event":{"type":"message","sender":{"type":"ai"},"content":"bare"}}],"next":3}}`,
		`{"items":[{"id":null,"event":null},{"event":{"sender":null,"content":null}}],"next":""}`,
		`{"items":null,"next":null}`,
		`{"items":[1]}`, `{"items":{}}`, `{"next":null}`, `{}`, `[]`, `null`, ``, `{`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		page, err := decodeHistory(raw)
		if err != nil {
			if page != nil {
				t.Fatalf("an error came with a page: %v, %+v", err, page)
			}
			return
		}
		if page == nil {
			t.Fatal("no page and no error")
		}
		// Finding an answer in whatever was decoded must not panic, and may
		// only ever pick items after the user's message.
		for i, it := range page.Items {
			for _, m := range []sentMessage{{id: it.ID, text: it.Text}, {text: it.Text}, {id: it.ID}} {
				a := scan{skip: i}
				a.page(page.Items, m)
				if a.reply != nil && a.reply.role() != roleReply || a.handoff != nil && a.handoff.role() != roleHandoff {
					t.Fatalf("picked a wrong item: %+v", a)
				}
				if (a.reply != nil || a.handoff != nil) && !a.sawUser {
					t.Fatalf("an answer without the user's message: %+v", a)
				}
			}
		}
	})
}
