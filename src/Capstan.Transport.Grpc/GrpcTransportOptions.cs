namespace Capstan.Transport.Grpc;

/// <summary>
/// Settings of a <see cref="GrpcTransport"/>. Every limit is a named setting with a checked range
/// (<see cref="Validate"/>). All captures of a cluster should use the same <see cref="MaxFrameBytes"/>:
/// a receiver refuses frames larger than its own limit.
/// </summary>
public sealed record GrpcTransportOptions
{
    /// <summary>The default inbox size: 65,536 messages per (changefeed, role) endpoint.</summary>
    public const int DefaultInboxCapacity = 65_536;

    /// <summary>The default send buffer: 16,384 messages per peer capture.</summary>
    public const int DefaultSendBufferCapacity = 16_384;

    /// <summary>The default frame limit: 4 MiB (gRPC's usual message limit).</summary>
    public const int DefaultMaxFrameBytes = 4 * 1024 * 1024;

    /// <summary>The default batch cap: 1,024 messages per frame (TiCDC's p2p batch).</summary>
    public const int DefaultBatchMaxMessages = 1024;

    /// <summary>The smallest allowed <see cref="MaxFrameBytes"/>.</summary>
    public const int MinMaxFrameBytes = 1024;

    /// <summary>The largest allowed <see cref="MaxFrameBytes"/> (1 GiB).</summary>
    public const int MaxMaxFrameBytes = 1 << 30;

    private const int MaxQueueCapacity = 16_777_216;

    /// <summary>Messages one endpoint's inbox holds before further ones are refused (1..16,777,216).</summary>
    public int InboxCapacity { get; init; } = DefaultInboxCapacity;

    /// <summary>
    /// Messages queued for one peer capture before <c>Send</c> refuses further ones (1..16,777,216).
    /// Messages wait here while the peer is unreachable.
    /// </summary>
    public int SendBufferCapacity { get; init; } = DefaultSendBufferCapacity;

    /// <summary>
    /// The largest encoded frame, in bytes (1 KiB..1 GiB). A single message that does not fit in a
    /// frame on its own is refused. Also the server's and the client's gRPC message-size limits.
    /// </summary>
    public int MaxFrameBytes { get; init; } = DefaultMaxFrameBytes;

    /// <summary>The most messages in one frame (1..65,536); a full batch is flushed at once.</summary>
    public int BatchMaxMessages { get; init; } = DefaultBatchMaxMessages;

    /// <summary>
    /// How long a sender waits, after the first message of a batch, for more messages before it
    /// flushes (0..1 s; zero flushes whatever is queued at once).
    /// </summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>The first reconnect delay after a stream breaks or a connect fails (1 ms..1 min).</summary>
    public TimeSpan ReconnectInitialDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The cap of the exponential reconnect delay (≥ <see cref="ReconnectInitialDelay"/>, ≤ 10 min).</summary>
    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long establishing a stream (TCP, TLS, HTTP/2, response headers) may take (10 ms..5 min).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Idle time after which the client pings the peer over HTTP/2 (100 ms..1 h).</summary>
    public TimeSpan KeepAlivePingDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a ping may go unanswered before the connection is considered broken (100 ms..1 h).</summary>
    public TimeSpan KeepAlivePingTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long disposal waits for queued messages to be flushed and streams to complete before it
    /// aborts them (0..5 min; TiCDC's transport close timeout is 5 s).
    /// </summary>
    public TimeSpan DisposeTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>TLS for both the server endpoint and the client connections; null = plaintext (h2c).</summary>
    public TlsOptions? Tls { get; init; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when a setting is out of range; returns this.</summary>
    public GrpcTransportOptions Validate()
    {
        CheckRange(InboxCapacity, 1, MaxQueueCapacity, nameof(InboxCapacity));
        CheckRange(SendBufferCapacity, 1, MaxQueueCapacity, nameof(SendBufferCapacity));
        CheckRange(MaxFrameBytes, MinMaxFrameBytes, MaxMaxFrameBytes, nameof(MaxFrameBytes));
        CheckRange(BatchMaxMessages, 1, 65_536, nameof(BatchMaxMessages));
        CheckRange(FlushInterval, TimeSpan.Zero, TimeSpan.FromSeconds(1), nameof(FlushInterval));
        CheckRange(ReconnectInitialDelay, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1), nameof(ReconnectInitialDelay));
        CheckRange(ReconnectMaxDelay, ReconnectInitialDelay, TimeSpan.FromMinutes(10), nameof(ReconnectMaxDelay));
        CheckRange(ConnectTimeout, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(5), nameof(ConnectTimeout));
        CheckRange(KeepAlivePingDelay, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1), nameof(KeepAlivePingDelay));
        CheckRange(KeepAlivePingTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1), nameof(KeepAlivePingTimeout));
        CheckRange(DisposeTimeout, TimeSpan.Zero, TimeSpan.FromMinutes(5), nameof(DisposeTimeout));
        Tls?.Validate();
        return this;
    }

    private static void CheckRange<T>(T value, T min, T max, string name)
        where T : IComparable<T>
    {
        if (value.CompareTo(min) < 0 || value.CompareTo(max) > 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be in {min}..{max}");
        }
    }
}

/// <summary>
/// TLS between captures: PEM files, one certificate per capture used both as server certificate
/// and, for mutual TLS, as client certificate (as TiCDC's security config does).
/// </summary>
public sealed record TlsOptions
{
    /// <summary>The capture's certificate (PEM). It must be valid for the host names/IPs peers dial.</summary>
    public required string CertificatePemPath { get; init; }

    /// <summary>The certificate's private key (PEM, PKCS#8 or PKCS#1/SEC1).</summary>
    public required string KeyPemPath { get; init; }

    /// <summary>
    /// The CA certificate(s) (PEM) that peer certificates must chain to. Null: the client validates
    /// servers against the system trust store and the server asks for no client certificate.
    /// </summary>
    public string? CaPemPath { get; init; }

    /// <summary>
    /// With a <see cref="CaPemPath"/>: the server requires a client certificate that chains to the CA
    /// (mutual TLS), and clients present <see cref="CertificatePemPath"/>. Default true.
    /// </summary>
    public bool RequireClientCertificate { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentException"/> when a path is empty or a file is missing; returns this.</summary>
    public TlsOptions Validate()
    {
        CheckFile(CertificatePemPath, nameof(CertificatePemPath));
        CheckFile(KeyPemPath, nameof(KeyPemPath));
        if (CaPemPath is not null)
        {
            CheckFile(CaPemPath, nameof(CaPemPath));
        }

        return this;
    }

    private static void CheckFile(string path, string name)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new ArgumentException($"{name} must name a file", name);
        }

        if (!File.Exists(path))
        {
            throw new ArgumentException($"{name}: file '{path}' does not exist", name);
        }
    }
}
