namespace Capstan.Server.Configuration;

using Capstan.Api;
using Capstan.Core.Model;
using Capstan.Runtime.Workload;
using Capstan.Transport.Grpc;
using Microsoft.Extensions.Logging;

/// <summary>
/// Everything <c>capstan server</c> is configured with. Sources, lowest precedence first: the
/// defaults below, the config file (JSON), <c>CAPSTAN_*</c> environment variables, command-line
/// options (see <see cref="SettingsLoader"/> and docs/CLUSTER.md for the key names).
/// </summary>
public sealed record ServerSettings
{
    /// <summary>The default gRPC listen address (the port after the HTTP one).</summary>
    public const string DefaultAddr = "127.0.0.1:8301";

    /// <summary>The default HTTP listen address: TiCDC's 8300, where <c>capstan cli</c> looks by default.</summary>
    public const string DefaultHttp = "127.0.0.1:8300";

    /// <summary>etcd endpoints, comma-separated (<c>http://127.0.0.1:2379</c>); null: the embedded in-process default.</summary>
    public string? Etcd { get; init; }

    /// <summary>gRPC listen address (<c>host:port</c>; an HTTP/2-only endpoint; port 0 picks a free port).</summary>
    public string Addr { get; init; } = DefaultAddr;

    /// <summary>The gRPC address peers dial, registered in membership; default: <see cref="Addr"/>.</summary>
    public string? AdvertiseAddr { get; init; }

    /// <summary>HTTP listen address (<c>host:port</c>; HTTP/1: health, status, API, metrics, dashboard).</summary>
    public string Http { get; init; } = DefaultHttp;

    /// <summary>The HTTP address other captures and tools reach this capture's API at; default: <see cref="Http"/>.</summary>
    public string? AdvertiseHttp { get; init; }

    /// <summary>A directory this process owns (locked); keeps the generated capture id across restarts.</summary>
    public string? DataDir { get; init; }

    /// <summary>The cluster's etcd key prefix (several clusters can share one etcd).</summary>
    public string ClusterPrefix { get; init; } = "capstan";

    /// <summary>The capture id; default: the one kept in <see cref="DataDir"/>, else a new UUID.</summary>
    public string? CaptureId { get; init; }

    /// <summary>The membership session's lease TTL (whole seconds, 1 s..600 s).</summary>
    public TimeSpan SessionTtl { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Deadline of each etcd call (100 ms..60 s).</summary>
    public TimeSpan EtcdCallTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Period of the agent, owner and capture loops (1 ms..1 min; TiCDC's 50 ms).</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>How long a graceful shutdown waits for the capture to be drained before it leaves anyway (0..24 h).</summary>
    public TimeSpan GracefulShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A stopping owner resigns once no move is in flight, or after this long regardless (0..10 min).</summary>
    public TimeSpan OwnerResignTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The lowest level logged.</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    /// <summary>TLS for gRPC and HTTP; null: plaintext.</summary>
    public ServerTlsSettings? Tls { get; init; }

    /// <summary>Scheduler settings of every coordinator this capture runs as owner.</summary>
    public SchedulerConfig Scheduler { get; init; } = new();

    /// <summary>Timings of the simulated table executor (server mode has no real upstream).</summary>
    public SimulatedExecutorOptions Executor { get; init; } = new();

    /// <summary>The simulated workload's write rates.</summary>
    public WorkloadSettings Workload { get; init; } = new();

    /// <summary>gRPC transport limits (its TLS comes from <see cref="Tls"/>).</summary>
    public GrpcTransportOptions Transport { get; init; } = new();

    /// <summary>The operator API's options (bearer token, forwarding and command timeouts, metrics interval).</summary>
    public CapstanApiOptions Api { get; init; } = new();

    /// <summary>True when no etcd is configured: the in-process single-capture cluster.</summary>
    public bool IsEmbedded => string.IsNullOrWhiteSpace(Etcd);

    /// <summary>Throws <see cref="SettingsException"/> naming the first setting that is out of range.</summary>
    public ServerSettings Validate()
    {
        Check(SessionTtl >= TimeSpan.FromSeconds(1) && SessionTtl <= TimeSpan.FromSeconds(600) && SessionTtl.Ticks % TimeSpan.TicksPerSecond == 0,
            "session-ttl", Durations.Format(SessionTtl), "must be whole seconds in 1s..600s (an etcd lease TTL)");
        Check(EtcdCallTimeout >= TimeSpan.FromMilliseconds(100) && EtcdCallTimeout <= TimeSpan.FromSeconds(60),
            "etcd-call-timeout", Durations.Format(EtcdCallTimeout), "must be in 100ms..60s");
        Check(TickInterval >= TimeSpan.FromMilliseconds(1) && TickInterval <= TimeSpan.FromMinutes(1),
            "tick-interval", Durations.Format(TickInterval), "must be in 1ms..1m");
        Check(GracefulShutdownTimeout <= TimeSpan.FromHours(24), "graceful-shutdown-timeout", Durations.Format(GracefulShutdownTimeout), "must be at most 24h");
        Check(OwnerResignTimeout <= TimeSpan.FromMinutes(10), "owner-resign-timeout", Durations.Format(OwnerResignTimeout), "must be at most 10m");
        Check(ClusterPrefix.Trim('/').Length > 0 && !ClusterPrefix.Contains(' ', StringComparison.Ordinal),
            "cluster-prefix", ClusterPrefix, "must be a non-empty key segment without spaces");
        if (CaptureId is not null)
        {
            Check(CaptureIds.IsValid(CaptureId), "capture-id", CaptureId, CaptureIds.Rule);
        }

        Endpoints.ParseListen(Addr, "addr");
        Endpoints.ParseListen(Http, "http");
        if (AdvertiseAddr is not null)
        {
            Endpoints.ParseAdvertised(AdvertiseAddr, "advertise-addr");
        }

        if (AdvertiseHttp is not null)
        {
            Endpoints.ParseAdvertised(AdvertiseHttp, "advertise-http");
        }

        if (!IsEmbedded)
        {
            EtcdEndpoints();
        }

        Tls?.Validate();
        Nested("scheduler", () => Scheduler.Validate());
        Nested("executor", () => Executor.Validate());
        Nested("workload", () => Workload.Validate());
        Nested("transport", () => Transport.Validate());
        Nested("api", () => Api.Validate());
        return this;
    }

    /// <summary>The etcd endpoints with a scheme, comma-separated, as dotnet-etcd takes them.</summary>
    public string EtcdEndpoints()
    {
        var parts = (Etcd ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            throw new SettingsException("etcd: no endpoint given (e.g. http://127.0.0.1:2379)");
        }

        for (int i = 0; i < parts.Length; i++)
        {
            var url = parts[i].Contains("://", StringComparison.Ordinal) ? parts[i] : "http://" + parts[i];
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Port <= 0)
            {
                throw new SettingsException($"etcd: '{parts[i]}' is not an endpoint (e.g. http://127.0.0.1:2379)");
            }

            parts[i] = uri.GetLeftPart(UriPartial.Authority);
        }

        return string.Join(',', parts);
    }

    private static void Check(bool ok, string key, string value, string rule)
    {
        if (!ok)
        {
            throw new SettingsException($"{key}: '{value}' {rule}");
        }
    }

    private static void Nested(string section, Action validate)
    {
        try
        {
            validate();
        }
        catch (ArgumentException error)
        {
            throw new SettingsException($"{section}: {error.Message}", error);
        }
    }
}

/// <summary>TLS files for the gRPC transport (both directions) and the HTTP endpoint.</summary>
public sealed record ServerTlsSettings
{
    /// <summary>This capture's certificate (PEM), valid for the addresses peers and clients dial.</summary>
    public required string Cert { get; init; }

    /// <summary>The certificate's private key (PEM).</summary>
    public required string Key { get; init; }

    /// <summary>CA certificate(s) (PEM) peers must chain to; null: the system trust store, no client certificates.</summary>
    public string? Ca { get; init; }

    /// <summary>With <see cref="Ca"/>: gRPC requires client certificates (mutual TLS). Default true.</summary>
    public bool RequireClientCert { get; init; } = true;

    /// <summary>The gRPC transport's TLS options.</summary>
    public TlsOptions ToTransport() => new()
    {
        CertificatePemPath = Cert,
        KeyPemPath = Key,
        CaPemPath = Ca,
        RequireClientCertificate = RequireClientCert,
    };

    /// <summary>Throws <see cref="SettingsException"/> when a file is missing.</summary>
    public void Validate()
    {
        try
        {
            ToTransport().Validate();
        }
        catch (ArgumentException error)
        {
            throw new SettingsException($"tls: {error.Message}", error);
        }
    }
}

/// <summary>The simulated upstream's write rates (events per second per table, drawn per table from the seed).</summary>
public sealed record WorkloadSettings
{
    /// <summary>Seed of the per-table rates.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Lowest rate (0..1,000,000).</summary>
    public int MinEventsPerSecond { get; init; } = 1;

    /// <summary>Highest rate (≥ the lowest, ≤ 1,000,000).</summary>
    public int MaxEventsPerSecond { get; init; } = 200;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when a rate is out of range.</summary>
    public WorkloadSettings Validate()
    {
        if (MinEventsPerSecond is < 0 or > 1_000_000)
        {
            throw new ArgumentOutOfRangeException(nameof(MinEventsPerSecond), MinEventsPerSecond, "min-events-per-second must be in 0..1000000");
        }

        if (MaxEventsPerSecond < MinEventsPerSecond || MaxEventsPerSecond > 1_000_000)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxEventsPerSecond), MaxEventsPerSecond, "max-events-per-second must be in min-events-per-second..1000000");
        }

        return this;
    }
}

/// <summary>A setting is missing, malformed or out of range; the message names the key and says what is expected.</summary>
public sealed class SettingsException : Exception
{
    /// <summary>Creates the error.</summary>
    public SettingsException(string message) : base(message)
    {
    }

    /// <summary>Creates the error with its cause.</summary>
    public SettingsException(string message, Exception inner) : base(message, inner)
    {
    }
}
