package parser

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/zishang520/socket.io/v3/pkg/log"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// encoder implements the Encoder interface for Socket.IO packet encoding.
type encoder struct{}

// NewEncoder creates a new Encoder instance.
func NewEncoder() Encoder {
	return &encoder{}
}

// Encode encodes a Socket.IO packet into a sequence of buffers.
// For non-binary packets, it returns a single string buffer.
// For binary packets, it returns the encoded packet header followed by binary buffers.
func (e *encoder) Encode(packet *Packet) []types.BufferInterface {
	if log.DEBUG.Load() { // Switchboard patch: see engine's sendPacket
		parserLog.Debug("encoding packet %v", packet)
	}

	// Check if the packet contains binary data and upgrade packet type if needed
	if packet.Type == EVENT || packet.Type == ACK {
		if HasBinary(packet.Data) {
			data := *packet
			if data.Type == EVENT {
				data.Type = BINARY_EVENT
			} else {
				data.Type = BINARY_ACK
			}
			return e.encodeAsBinary(&data)
		}
	}

	return []types.BufferInterface{e.encodeAsString(packet)}
}

// encodeAsString encodes a packet as a string buffer.
// The format is: <type>[<attachments>-][/<namespace>,][<id>][<data>]
func (e *encoder) encodeAsString(packet *Packet) types.BufferInterface {
	// Switchboard patch: the JSON first, then one buffer of the packet's
	// size; upstream grew a buffer from one byte for each part.
	var jsonBytes []byte
	if packet.Data != nil {
		if b, err := json.Marshal(preprocessData(packet.Data)); err == nil && len(b) <= types.MaxPayloadSize {
			jsonBytes = b
		}
	}
	buf := make([]byte, 0, 1+20+1+len(packet.Nsp)+1+20+len(jsonBytes))

	// Start with packet type
	buf = append(buf, byte(packet.Type)+'0')

	// Add attachment count for binary packets
	if (packet.Type == BINARY_EVENT || packet.Type == BINARY_ACK) && packet.Attachments != nil {
		buf = strconv.AppendUint(buf, *packet.Attachments, 10)
		buf = append(buf, '-')
	}

	// Add namespace (if not the default "/")
	if len(packet.Nsp) > 0 && packet.Nsp != "/" {
		buf = append(buf, packet.Nsp...)
		buf = append(buf, ',')
	}

	// Add packet ID for acknowledgments
	if packet.Id != nil {
		buf = strconv.AppendUint(buf, *packet.Id, 10)
	}

	// Add JSON-encoded data
	buf = append(buf, jsonBytes...)

	buffer := types.NewStringBuffer(buf)
	if log.DEBUG.Load() {
		parserLog.Debug("encoded %v as %v", packet, buffer)
	}
	return buffer
}

// encodeAsBinary encodes a packet that contains binary data.
// It deconstructs the packet to extract binary data, then encodes the packet header
// followed by all binary buffers.
func (e *encoder) encodeAsBinary(packet *Packet) []types.BufferInterface {
	deconstructedPacket, buffers := DeconstructPacket(packet)
	header := e.encodeAsString(deconstructedPacket)
	return append([]types.BufferInterface{header}, buffers...)
}

// preprocessData recursively processes data to convert special types
// that need transformation before JSON encoding. Switchboard patch: data
// that holds nothing to convert (every event Switchboard sends) is
// returned as it is; upstream copied every map and slice of every payload
// on the way to json.Marshal.
func preprocessData(data any) any {
	if !needsPreprocess(data) {
		return data
	}
	switch typedData := data.(type) {
	case *strings.Reader:
		// Convert strings.Reader to StringBuffer for proper handling
		buffer, _ := types.NewStringBufferReader(typedData)
		return buffer
	case []any:
		result := make([]any, 0, len(typedData))
		for _, item := range typedData {
			result = append(result, preprocessData(item))
		}
		return result
	case map[string]any:
		result := make(map[string]any, len(typedData))
		for key, value := range typedData {
			result[key] = preprocessData(value)
		}
		return result
	default:
		return data
	}
}

// needsPreprocess reports whether data holds a value preprocessData
// converts.
func needsPreprocess(data any) bool {
	switch typedData := data.(type) {
	case *strings.Reader:
		return true
	case []any:
		for _, item := range typedData {
			if needsPreprocess(item) {
				return true
			}
		}
	case map[string]any:
		for _, value := range typedData {
			if needsPreprocess(value) {
				return true
			}
		}
	}
	return false
}
