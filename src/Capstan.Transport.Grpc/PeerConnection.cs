namespace Capstan.Transport.Grpc;

using Capstan.Core.Model;
using Capstan.Protocol.Transport;
using global::Grpc.Core;
using global::Grpc.Net.Client;

/// <summary>
/// The sending side towards one peer capture: a bounded <see cref="SendBuffer"/>, one
/// <see cref="GrpcChannel"/>, and one background loop that keeps one <c>Exchange</c> stream open,
/// batches the buffer into frames, reads the peer's acks, and reconnects with backoff.
/// </summary>
/// <remarks>
/// <para>Lifecycle of the loop:</para>
/// <code>
///   ┌──────────────► resolve address ──(none: the peer left)──► closed
///   │                      │
///   │                 open stream, await the peer's headers (identity check)
///   │                  │ ok                        │ failed
///   │             pump frames ◄──┐                 │
///   │              │  │ batch    │                 │
///   │              │  └──────────┘                 │
///   │     broke    │ transport stopping            │
///   │              │ → final flush, complete ──────┼──► closed
///   └── backoff ◄──┴───────────────────────────────┘   (backoff doubles 100 ms → 5 s, ±50% jitter;
///                                                        reset after a stream was established)
/// </code>
/// <para>
/// While no stream is up the messages stay in the buffer (up to its capacity; then <c>Send</c>
/// refuses); messages taken from the buffer for a stream that then breaks are lost and counted
/// (at-most-once delivery, no retransmission: the scheduler protocol resends what matters).
/// </para>
/// </remarks>
internal sealed class PeerConnection
{
    /// <summary>The response header carrying the serving capture's id.</summary>
    public const string CaptureIdHeader = "capstan-capture-id";

    /// <summary>The request header carrying the calling capture's id.</summary>
    public const string FromCaptureHeader = "capstan-from-capture";

    /// <summary>The largest ack accepted (acks are small; the error text is capped).</summary>
    public const int MaxAckBytes = 64 * 1024;

    private readonly GrpcTransport _transport;
    private readonly GrpcTransportOptions _options;
    private readonly CounterCells _cells = new();
    private readonly FrameBatcher _batcher;
    private GrpcChannel? _channel;
    private string? _channelAddress;
    private volatile string? _address;
    private volatile bool _connected;
    private Task _loop = Task.CompletedTask;

    public PeerConnection(GrpcTransport transport, CaptureId capture)
    {
        _transport = transport;
        _options = transport.Options;
        Capture = capture;
        Buffer = new SendBuffer(_options.SendBufferCapacity);
        _batcher = new FrameBatcher(transport.Self.Value, _options.MaxFrameBytes, _options.BatchMaxMessages);
    }

    /// <summary>The peer.</summary>
    public CaptureId Capture { get; }

    /// <summary>Messages waiting for the peer.</summary>
    public SendBuffer Buffer { get; }

    /// <summary>Completes when the loop has ended (it never faults).</summary>
    public Task Completion => _loop;

    /// <summary>Starts the background loop.</summary>
    public void Start() => _loop = Task.Run(RunAsync);

    /// <summary>Adds to this peer's and the transport's counter.</summary>
    public void Count(Counter counter, long amount = 1)
    {
        _cells.Add(counter, amount);
        _transport.Cells.Add(counter, amount);
    }

    /// <summary>A snapshot of this peer's counters.</summary>
    public PeerCounters Snapshot() => new()
    {
        Capture = Capture,
        Address = _address,
        Connected = _connected,
        Buffered = Buffer.Count,
        Queued = _cells[Counter.Queued],
        SentMessages = _cells[Counter.SentMessages],
        SentFrames = _cells[Counter.SentFrames],
        RefusedSendBufferFull = _cells[Counter.RefusedSendBufferFull],
        RefusedOversize = _cells[Counter.RefusedOversize],
        DroppedOnDisconnect = _cells[Counter.DroppedOnDisconnect],
        AcceptedByPeer = _cells[Counter.AcceptedByPeers],
        RejectedByPeer = _cells[Counter.RejectedByPeers],
        Reconnects = _cells[Counter.Reconnects],
        ConnectFailures = _cells[Counter.ConnectFailures],
    };

    private async Task RunAsync()
    {
        try
        {
            await ConnectLoopAsync().ConfigureAwait(false);
        }
        catch (Exception error)
        {
            _transport.Log.Unexpected($"connection to capture '{Capture}'", error);
        }
        finally
        {
            _connected = false;
            Count(Counter.DroppedOnDisconnect, Buffer.Close());
            _channel?.Dispose();
            _transport.OnPeerClosed(this);
        }
    }

    private async Task ConnectLoopAsync()
    {
        var stopping = _transport.Stopping;
        var delay = _options.ReconnectInitialDelay;
        bool everConnected = false;
        int failedAttempts = 0;
        while (!stopping.IsCancellationRequested)
        {
            string? address = _transport.ResolveAddress(Capture);
            if (address is null)
            {
                _transport.Log.PeerLeft(Capture.Value, Buffer.Count);
                return;
            }

            _address = address;
            bool connected = await RunStreamAsync(address, everConnected, failedAttempts + 1).ConfigureAwait(false);
            if (connected)
            {
                everConnected = true;
                failedAttempts = 0;
                delay = _options.ReconnectInitialDelay;
            }
            else
            {
                failedAttempts++;
            }

            if (stopping.IsCancellationRequested)
            {
                return;
            }

            if (!await BackoffAsync(delay, stopping).ConfigureAwait(false))
            {
                return;
            }

            if (!connected)
            {
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.ReconnectMaxDelay.Ticks));
            }
        }
    }

    /// <summary>Waits <paramref name="delay"/> with ±50% jitter; false when the transport stops meanwhile.</summary>
    private static async Task<bool> BackoffAsync(TimeSpan delay, CancellationToken stopping)
    {
        var jittered = TimeSpan.FromTicks((long)(delay.Ticks * (0.5 + (Random.Shared.NextDouble() * 0.5))));
        try
        {
            await Task.Delay(jittered, stopping).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>One stream's life; true when it was established. Never throws.</summary>
    private async Task<bool> RunStreamAsync(string address, bool reconnect, int attempt)
    {
        using var broken = CancellationTokenSource.CreateLinkedTokenSource(_transport.Aborting);
        using var wakeable = CancellationTokenSource.CreateLinkedTokenSource(broken.Token, _transport.Stopping);
        AsyncDuplexStreamingCall<Frame, Ack>? call = null;
        Task? acks = null;
        bool connected = false;
        try
        {
            var client = new CaptureTransport.CaptureTransportClient(Channel(address));
            var headers = new Metadata { { FromCaptureHeader, _transport.Self.Value } };
            call = client.Exchange(headers, deadline: null, cancellationToken: broken.Token);
            var responseHeaders = await call.ResponseHeadersAsync
                .WaitAsync(_options.ConnectTimeout, wakeable.Token).ConfigureAwait(false);
            CheckIdentity(responseHeaders);
            connected = _connected = true;
            if (reconnect)
            {
                Count(Counter.Reconnects);
            }

            _transport.Log.Connected(Capture.Value, address, reconnect);
            acks = ReadAcksAsync(call.ResponseStream, broken);
            _batcher.StartStream();
            await PumpAsync(call.RequestStream, broken.Token, wakeable.Token).ConfigureAwait(false);
            await acks.WaitAsync(_options.DisposeTimeout).ConfigureAwait(false);
        }
        catch (Exception error)
        {
            ReportFailure(address, attempt, connected, error);
        }
        finally
        {
            _connected = false;
            await broken.CancelAsync().ConfigureAwait(false);
            if (acks is not null)
            {
                await acks.ConfigureAwait(false);
            }

            call?.Dispose();
        }

        return connected;
    }

    private void ReportFailure(string address, int attempt, bool connected, Exception error)
    {
        if (_transport.Stopping.IsCancellationRequested)
        {
            return;
        }

        if (connected)
        {
            _transport.Log.StreamBroke(Capture.Value, address, error is OperationCanceledException ? null : error);
        }
        else
        {
            Count(Counter.ConnectFailures);
            _transport.Log.ConnectFailed(Capture.Value, address, attempt, error);
        }
    }

    private void CheckIdentity(Metadata responseHeaders)
    {
        string? served = responseHeaders.GetValue(CaptureIdHeader);
        if (!string.Equals(served, Capture.Value, StringComparison.Ordinal))
        {
            throw new InvalidOperationException(
                $"the server at {_address} is capture '{served ?? "(not a Capstan capture)"}', not '{Capture}'");
        }
    }

    /// <summary>
    /// Writes batches until the stream breaks (throws) or the transport stops (final flush, then
    /// completes the request stream and returns).
    /// </summary>
    private async Task PumpAsync(IClientStreamWriter<Frame> stream, CancellationToken broken, CancellationToken wakeable)
    {
        var spare = new List<PendingMessage>();
        while (true)
        {
            try
            {
                await Buffer.WaitForCountAsync(1).WaitAsync(wakeable).ConfigureAwait(false);
                if (_options.FlushInterval > TimeSpan.Zero && Buffer.Count < _options.BatchMaxMessages)
                {
                    await Task.WhenAny(
                        Buffer.WaitForCountAsync(_options.BatchMaxMessages),
                        Task.Delay(_options.FlushInterval, wakeable)).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (!broken.IsCancellationRequested)
            {
                // The transport is stopping: fall through to a final flush.
            }

            broken.ThrowIfCancellationRequested();
            var batch = Buffer.Drain(spare);
            try
            {
                await _batcher.WriteAsync(batch, stream, this, broken).ConfigureAwait(false);
            }
            catch
            {
                Count(Counter.DroppedOnDisconnect, batch.Count - _batcher.Written);
                throw;
            }

            batch.Clear();
            spare = batch;
            if (_transport.Stopping.IsCancellationRequested)
            {
                await stream.CompleteAsync().ConfigureAwait(false);
                return;
            }
        }
    }

    /// <summary>Counts the peer's acks until the response stream ends; then marks the stream broken. Never throws.</summary>
    private async Task ReadAcksAsync(IAsyncStreamReader<Ack> acks, CancellationTokenSource broken)
    {
        try
        {
            while (await acks.MoveNext(broken.Token).ConfigureAwait(false))
            {
                var ack = acks.Current;
                Count(Counter.AcceptedByPeers, ack.Accepted);
                Count(Counter.RejectedByPeers, ack.Rejected);
                if (ack.Rejected > 0)
                {
                    _transport.Log.PeerRejected(Capture.Value, ack.Rejected, ack.Error);
                }
            }
        }
        catch (Exception error) when (error is RpcException or OperationCanceledException or IOException or InvalidOperationException)
        {
            // The stream ended abnormally; the writer side reports it.
        }
        catch (Exception error)
        {
            _transport.Log.Unexpected($"reading acks from capture '{Capture}'", error);
        }
        finally
        {
            try
            {
                await broken.CancelAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // Already torn down.
            }
        }
    }

    private GrpcChannel Channel(string address)
    {
        if (_channel is not null && string.Equals(_channelAddress, address, StringComparison.Ordinal))
        {
            return _channel;
        }

        _channel?.Dispose();
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = _transport.CreateHttpHandler(),
            DisposeHttpClient = true,
            MaxSendMessageSize = _options.MaxFrameBytes,
            MaxReceiveMessageSize = MaxAckBytes,

            // The channel's own connect backoff (1 s → 120 s by default) would hold calls back long
            // after the peer is up again; keep it at our first delay so that this loop's backoff rules.
            InitialReconnectBackoff = _options.ReconnectInitialDelay,
            MaxReconnectBackoff = _options.ReconnectInitialDelay,
        });
        _channelAddress = address;
        return _channel;
    }
}
