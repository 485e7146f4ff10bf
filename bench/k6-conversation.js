// The conversation of bench/conversation.yaml as a k6 script, for
// bench/run.sh: each iteration creates an OpenCX session and sends three
// messages, checking each reply's content as the suite does (contains,
// ignoring case) and capturing the ticket for the second message.
//
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e RATE=500 -e DURATION=20s \
//     -e VUS=200 -e MAX_VUS=2000 bench/k6-conversation.js
import http from 'k6/http';
import { check } from 'k6';
import { Counter } from 'k6/metrics';

const base = __ENV.BASE_URL || 'http://127.0.0.1:8080';
const turns = new Counter('turns');

export const options = {
  discardResponseBodies: false,
  summaryTrendStats: ['med', 'p(90)', 'p(95)', 'p(99)', 'max'],
  scenarios: {
    conversations: {
      executor: 'constant-arrival-rate',
      rate: Number(__ENV.RATE || 500),
      timeUnit: '1s',
      duration: __ENV.DURATION || '20s',
      preAllocatedVUs: Number(__ENV.VUS || 200),
      maxVUs: Number(__ENV.MAX_VUS || 2000),
      gracefulStop: '30s',
    },
  },
};

const params = { headers: { 'Content-Type': 'application/json', Accept: 'application/json' } };

// content is the bot's text in a flat OpenCX send reply.
function content(res) {
  try {
    const v = res.json().autopilotResponse.value;
    return (v && v.content) || '';
  } catch (e) {
    return '';
  }
}

function send(session, text, want) {
  const res = http.post(
    `${base}/chat/sessions/${session}/send`,
    JSON.stringify({ sender: 'contact', message: { type: 'text', text } }),
    params,
  );
  const reply = content(res);
  check(res, { [`contains ${want}`]: () => res.status === 201 && reply.toLowerCase().includes(want) });
  turns.add(1);
  return reply;
}

export default function () {
  const res = http.post(`${base}/chat/sessions`, JSON.stringify({ custom_data: { evalrun_run_id: 'k6' } }), params);
  if (!check(res, { 'session created': (r) => r.status === 201 })) {
    return;
  }
  const session = res.json().id;
  const first = send(session, 'I want a refund for order ord_42', 'refund');
  const m = /(TCK-\d+)/.exec(first);
  const ticket = m ? m[1] : '';
  send(session, `What is the status of ticket ${ticket}?`, 'being processed');
  send(session, 'Thanks!', 'welcome');
}
