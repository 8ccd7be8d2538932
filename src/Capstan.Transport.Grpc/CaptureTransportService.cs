namespace Capstan.Transport.Grpc;

using Capstan.Protocol.Transport;
using global::Grpc.Core;
using Google.Protobuf;
using Microsoft.Extensions.Hosting;

/// <summary>
/// The server side of <c>CaptureTransport.Exchange</c>: reads a peer's frames, hands their messages
/// to the <see cref="GrpcTransport"/>'s endpoints and answers every frame with an <see cref="Ack"/>.
/// Map it with <c>app.MapGrpcService&lt;CaptureTransportService&gt;()</c> (or
/// <c>app.MapCapstanGrpcTransport()</c>) after <c>services.AddCapstanGrpcTransport(...)</c>.
/// </summary>
/// <remarks>
/// A frame with a bad header or malformed messages is rejected and counted, and the stream goes on.
/// Bytes that are not a frame (or a frame over the size limit) end the stream with
/// <see cref="StatusCode.InvalidArgument"/>; the peer reconnects. When the host or the transport
/// stops, streams end with <see cref="StatusCode.Unavailable"/>. No exception other than an
/// <see cref="RpcException"/> leaves this method.
/// </remarks>
public sealed class CaptureTransportService : CaptureTransport.CaptureTransportBase
{
    private readonly GrpcTransport _transport;
    private readonly IHostApplicationLifetime _lifetime;

    /// <summary>Created by the gRPC framework per call.</summary>
    public CaptureTransportService(GrpcTransport transport, IHostApplicationLifetime lifetime)
    {
        _transport = transport;
        _lifetime = lifetime;
    }

    /// <inheritdoc/>
    public override async Task Exchange(IAsyncStreamReader<Frame> requestStream, IServerStreamWriter<Ack> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(
            context.CancellationToken, _transport.Stopping, _lifetime.ApplicationStopping);
        string peer = context.RequestHeaders.GetValue(PeerConnection.FromCaptureHeader) is { } from
            ? $"capture '{from}' ({context.Peer})"
            : context.Peer;
        try
        {
            await context.WriteResponseHeadersAsync(new Metadata { { PeerConnection.CaptureIdHeader, _transport.Self.Value } })
                .ConfigureAwait(false);
            while (await NextFrameAsync(requestStream, peer, context, stop.Token).ConfigureAwait(false) is { } frame)
            {
                var ack = _transport.HandleFrame(frame);
                await responseStream.WriteAsync(ack, stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception error) when (error is not RpcException && stop.IsCancellationRequested)
        {
            ThrowIfStopping(context);
        }
        catch (Exception error) when (error is IOException or OperationCanceledException or InvalidOperationException)
        {
            // The peer went away mid-write: nothing to answer.
        }
    }

    private async Task<Frame?> NextFrameAsync(
        IAsyncStreamReader<Frame> requestStream, string peer, ServerCallContext context, CancellationToken stop)
    {
        try
        {
            return await requestStream.MoveNext(stop).ConfigureAwait(false) ? requestStream.Current : null;
        }
        catch (Exception error) when (error is not InvalidProtocolBufferException
            && (stop.IsCancellationRequested || error is IOException || context.CancellationToken.IsCancellationRequested))
        {
            ThrowIfStopping(context);
            return null;
        }
        catch (Exception error)
        {
            // Not a frame (undecodable bytes: InvalidProtocolBufferException, an IOException) or over
            // the size limit (RpcException): the stream cannot be trusted any more.
            _transport.RejectUnreadableFrame(peer, error);
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"unreadable frame: {error.Message}"));
        }
    }

    private void ThrowIfStopping(ServerCallContext context)
    {
        if (!context.CancellationToken.IsCancellationRequested
            && (_transport.Stopping.IsCancellationRequested || _lifetime.ApplicationStopping.IsCancellationRequested))
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"capture '{_transport.Self}' is shutting down"));
        }
    }
}
