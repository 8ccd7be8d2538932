namespace Capstan.Server;

using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Runtime.Hosting;
using Capstan.Runtime.Workload;
using Capstan.Server.Configuration;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Logging;

/// <summary>
/// What one <c>capstan server</c> process is: its settings, capture id, cluster edges, upstream
/// clock and simulated workload, and (once the endpoints are bound) its advertised addresses.
/// The hook for hosting more endpoints (the operator API) reads everything from here.
/// </summary>
public sealed class ServerContext
{
    private ClusterEdges? _edges;
    private IServiceProvider? _services;

    /// <summary>Creates the context of a process.</summary>
    public ServerContext(ServerSettings settings, CaptureId captureId)
    {
        Settings = settings;
        CaptureId = captureId;
        Clock = new UpstreamClock(SystemTimeSource.Instance);
        Workload = new TableWorkload(settings.Workload.Seed, settings.Workload.MinEventsPerSecond, settings.Workload.MaxEventsPerSecond);
    }

    /// <summary>The settings.</summary>
    public ServerSettings Settings { get; }

    /// <summary>This process's capture.</summary>
    public CaptureId CaptureId { get; }

    /// <summary>Membership, election and metadata (set before the host starts).</summary>
    public ClusterEdges Edges
    {
        get => _edges ?? throw new InvalidOperationException("the cluster edges are not connected yet");
        set => _edges = value;
    }

    /// <summary>The host's services (set once the host is built).</summary>
    public IServiceProvider ServiceProvider
    {
        get => _services ?? throw new InvalidOperationException("the host is not built yet");
        set => _services = value;
    }

    /// <summary>Upstream time (system clock): barriers, changefeed start ts, lag.</summary>
    public UpstreamClock Clock { get; }

    /// <summary>The simulated tables' write rates.</summary>
    public TableWorkload Workload { get; }

    /// <summary>What this process's executors applied (the simulated downstream).</summary>
    public ReplicationLedger Ledger { get; } = new();

    /// <summary>The advertised gRPC address (host:port), once bound.</summary>
    public string? GrpcAddress { get; private set; }

    /// <summary>The advertised HTTP base URL, once bound.</summary>
    public string? HttpUrl { get; private set; }

    /// <summary>The host settings every incarnation runs with.</summary>
    public HostOptions HostOptions => new()
    {
        AgentTickInterval = Settings.TickInterval,
        OwnerTickInterval = Settings.TickInterval,
        CaptureTickInterval = Settings.TickInterval,
        GracefulStopTimeoutMilliseconds = (long)Settings.GracefulShutdownTimeout.TotalMilliseconds,
        OwnerResignTimeoutMilliseconds = (long)Settings.OwnerResignTimeout.TotalMilliseconds,
        Scheduler = Settings.Scheduler,
    };

    /// <summary>A peer's gRPC address from membership, or null when it is not a member.</summary>
    public string? ResolveGrpc(CaptureId capture) =>
        _edges is { } edges && edges.Membership.AliveCaptures.TryGetValue(capture, out var info) && info.Address.Length > 0 ? info.Address : null;

    /// <summary>A service of the host.</summary>
    public T Services<T>()
        where T : notnull => Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<T>(ServiceProvider);

    /// <summary>A capture's HTTP API base URL as it registered it in membership, or null.</summary>
    public Uri? ApiAddressOf(CaptureId capture) =>
        _edges is { } edges && edges.Membership.AliveCaptures.TryGetValue(capture, out var info)
        && Uri.TryCreate(info.ApiAddress, UriKind.Absolute, out var uri) ? uri : null;

    /// <summary>The edges a capture incarnation runs on.</summary>
    public CaptureServices CaptureServices(Runtime.Transport.IMessageTransport transport, ILogger logger) => new()
    {
        Transport = transport,
        Membership = Edges.Membership,
        Election = Edges.Election,
        Metadata = Edges.Metadata,
        Clock = Clock,
        ExecutorFactory = (capture, epoch, changefeed) =>
            new SimulatedTableExecutor(new SinkWriter(capture, epoch), changefeed.Id, Clock, Ledger, Workload, Settings.Executor),
        Options = HostOptions,
        Logger = logger,
    };

    /// <summary>Reads the bound endpoints (gRPC first, then HTTP, as configured) and fixes the advertised addresses.</summary>
    public CaptureInfo Advertise(IServer server)
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
        if (addresses.Count < 2)
        {
            throw new InvalidOperationException($"expected the gRPC and HTTP endpoints to be bound, found: {string.Join(", ", addresses)}");
        }

        var grpcBound = new Uri(addresses[0]);
        var httpBound = new Uri(addresses[1]);
        GrpcAddress = AdvertisedHostPort(Settings.AdvertiseAddr, Settings.Addr, grpcBound.Port, "addr");
        HttpUrl = $"{httpBound.Scheme}://{AdvertisedHostPort(Settings.AdvertiseHttp, Settings.Http, httpBound.Port, "http")}";
        return new CaptureInfo(CaptureId, GrpcAddress, CapstanVersion.Current) { ApiAddress = HttpUrl };
    }

    private static string AdvertisedHostPort(string? advertised, string listen, int boundPort, string key)
    {
        if (advertised is not null)
        {
            var (host, port) = Endpoints.ParseAdvertised(advertised, "advertise-" + key);
            return Endpoints.Join(host, port == 0 ? boundPort : port);
        }

        var endpoint = Endpoints.ParseListen(listen, key);
        return Endpoints.Join(endpoint.Address.ToString(), boundPort);
    }
}
