namespace Capstan.Api.Hosting;

using Capstan.Runtime.Transport;
using Capstan.Transport.Grpc;

/// <summary>Transport counters as (result, count) pairs for <c>capstan_transport_messages_total{result}</c>.</summary>
public static class TransportReadings
{
    /// <summary>The in-process transport's counters.</summary>
    public static IReadOnlyList<KeyValuePair<string, long>> Of(TransportCounters counters) =>
    [
        new("delivered", counters.Delivered),
        new("received", counters.Received),
        new("refused_unknown_peer", counters.RefusedUnknownPeer),
        new("refused_inbox_full", counters.RefusedInboxFull),
        new("refused_sender_closed", counters.RefusedSenderClosed),
        new("dropped_by_filter", counters.DroppedByFilter),
    ];

    /// <summary>The gRPC transport's counters.</summary>
    public static IReadOnlyList<KeyValuePair<string, long>> Of(GrpcTransportCounters counters)
    {
        ArgumentNullException.ThrowIfNull(counters);
        return
        [
            new("queued", counters.Queued),
            new("self_delivered", counters.SelfDelivered),
            new("sent", counters.SentMessages),
            new("received", counters.Received),
            new("accepted_by_peers", counters.AcceptedByPeers),
            new("rejected_by_peers", counters.RejectedByPeers),
            new("refused_send_buffer_full", counters.RefusedSendBufferFull),
            new("refused_oversize", counters.RefusedOversize),
            new("refused_unknown_peer", counters.RefusedUnknownPeer),
            new("refused_malformed", counters.RefusedMalformed),
            new("refused_sender_closed", counters.RefusedSenderClosed),
            new("dropped_on_disconnect", counters.DroppedOnDisconnect),
            new("rejected_malformed", counters.RejectedMalformed),
            new("rejected_bad_frames", counters.RejectedBadFrames),
            new("rejected_unknown_endpoint", counters.RejectedUnknownEndpoint),
            new("rejected_inbox_full", counters.RejectedInboxFull),
        ];
    }
}
