package sim

import (
	"net/http"
	"strings"
)

type toolzzIn struct {
	Message        *string `json:"message"`
	BotID          *string `json:"botId"`
	ConversationID *string `json:"conversationId"`
}

type toolzzOut struct {
	Message toolzzMessage `json:"message"`
}

type toolzzMessage struct {
	Content         string  `json:"content"`
	ConversationID  string  `json:"conversationId"`
	TransferToAgent bool    `json:"transferToAgent"`
	TargetBotID     *string `json:"targetBotId"`
}

// toolzzSend serves POST /api/v1/chat/send-message. A message without a
// conversationId starts a conversation; once a conversation is with a human,
// the bot's content is empty and transferToAgent stays true.
func (s *Server) toolzzSend(w http.ResponseWriter, r *http.Request) {
	var in toolzzIn
	if err := decodeBody(r, &in); err != nil {
		writeBodyError(w, APIToolzz, err)
		return
	}
	switch {
	case in.BotID == nil || *in.BotID == "":
		writeError(w, APIToolzz, http.StatusBadRequest, "botId is required")
		return
	case !isUUID(*in.BotID):
		writeError(w, APIToolzz, http.StatusBadRequest, "botId must be a UUID")
		return
	case in.Message == nil || strings.TrimSpace(*in.Message) == "":
		writeError(w, APIToolzz, http.StatusBadRequest, "message is required")
		return
	}

	s.mu.Lock()
	var sess *session
	if in.ConversationID == nil || *in.ConversationID == "" {
		sess = s.newSession(APIToolzz)
		sess.BotID = *in.BotID
	} else if sess = s.lookup(APIToolzz, *in.ConversationID); sess == nil {
		s.mu.Unlock()
		writeError(w, APIToolzz, http.StatusNotFound, "conversation not found")
		return
	}
	ex := s.converse(sess, *in.Message, planOf(r))
	out := toolzzOut{Message: toolzzMessage{
		ConversationID:  sess.ID,
		TransferToAgent: sess.HandedOff,
	}}
	if !ex.silent {
		out.Message.Content = ex.text
		out.Message.TargetBotID = nullable(ex.targetBot)
	}
	s.mu.Unlock()

	writeJSON(w, http.StatusOK, out)
}
