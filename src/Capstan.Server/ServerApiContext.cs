namespace Capstan.Server;

using Capstan.Api.Hosting;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Runtime.Hosting;
using Capstan.Runtime.Membership;
using Capstan.Runtime.Metadata;
using Capstan.Runtime.Workload;
using Capstan.Transport.Grpc;

/// <summary>
/// The operator API's view of this process: the supervisor's running incarnation (it changes
/// when the capture rejoins after fencing), the cluster edges, owner forwarding through the
/// <see cref="Core.Member.CaptureInfo.ApiAddress"/> captures register, and the gRPC transport's counters.
/// Bound lazily: the API's services exist before the edges are connected.
/// </summary>
public sealed class ServerApiContext(ServerContext context) : ICaptureApiContext
{
    private readonly Lazy<CaptureNodeApiContext> _inner = new(() => new CaptureNodeApiContext(
        context.Services<CaptureSupervisor>().Services,
        () => context.Services<CaptureSupervisor>().Current is { } node ? [node] : [],
        capture => context.ApiAddressOf(capture),
        () => TransportReadings.Of(context.Services<GrpcTransport>().Counters)));

    /// <inheritdoc/>
    public CaptureId Self => context.CaptureId;

    /// <inheritdoc/>
    public string Version => CapstanVersion.Current;

    /// <inheritdoc/>
    public IMetadataStore Metadata => context.Edges.Metadata;

    /// <inheritdoc/>
    public IMembership Membership => context.Edges.Membership;

    /// <inheritdoc/>
    public IOwnerElection Election => context.Edges.Election;

    /// <inheritdoc/>
    public UpstreamClock Clock => context.Clock;

    /// <inheritdoc/>
    public TimeSpan OwnerTickInterval => context.Settings.TickInterval;

    /// <inheritdoc/>
    public IReadOnlyList<KeyValuePair<string, long>>? TransportCounters => TransportReadings.Of(context.Services<GrpcTransport>().Counters);

    /// <inheritdoc/>
    public bool IsLocal(CaptureId capture) => _inner.Value.IsLocal(capture);

    /// <inheritdoc/>
    public Liveness? LocalLiveness(CaptureId capture) => _inner.Value.LocalLiveness(capture);

    /// <inheritdoc/>
    public IReadOnlyList<IChangefeedScheduler> LocalSchedulers(CaptureId owner) => _inner.Value.LocalSchedulers(owner);

    /// <inheritdoc/>
    public Task<bool> ResignOwnerAsync(CaptureId owner, CancellationToken cancellationToken) => _inner.Value.ResignOwnerAsync(owner, cancellationToken);

    /// <inheritdoc/>
    public Uri? ApiAddressOf(CaptureId capture) => context.ApiAddressOf(capture);
}
