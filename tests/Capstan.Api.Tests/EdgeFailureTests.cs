namespace Capstan.Api.Tests;

using System.Net;
using Capstan.Api.Hosting;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Runtime.Membership;
using Capstan.Runtime.Metadata;
using Capstan.Runtime.Workload;

/// <summary>When the cluster's edges fail (metadata store unreachable), the API answers 503 problems, never a 500 page.</summary>
public sealed class EdgeFailureTests
{
    [Fact(DisplayName = "Metadata store unreachable: changefeed endpoints answer 503 'retry'; /metrics and health of membership still answer")]
    public async Task MetadataDown_Is503()
    {
        await using var cluster = await SteppedCluster.StartAsync(captures: 2, tables: 2);
        var context = new FailingMetadataContext(EmbeddedClusterApiContext.Create(cluster.Cluster));
        await using var server = await ApiServer.StartAsync(context);
        await ProblemAssert.IsProblemAsync(await server.Client.GetAsync("/api/v2/changefeeds"), HttpStatusCode.ServiceUnavailable, "retry");
        await ProblemAssert.IsProblemAsync(await server.Client.GetAsync("/api/v2/changefeeds/changefeed-1/tables"), HttpStatusCode.ServiceUnavailable, "TimeoutException");
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/api/v2/captures")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/metrics")).StatusCode);
    }

    private sealed class FailingMetadataContext(ICaptureApiContext inner) : ICaptureApiContext
    {
        public CaptureId Self => inner.Self;

        public string Version => inner.Version;

        public IMetadataStore Metadata { get; } = new FailingStore();

        public IMembership Membership => inner.Membership;

        public IOwnerElection Election => inner.Election;

        public UpstreamClock Clock => inner.Clock;

        public TimeSpan OwnerTickInterval => inner.OwnerTickInterval;

        public IReadOnlyList<KeyValuePair<string, long>>? TransportCounters => inner.TransportCounters;

        public Uri? ApiAddressOf(CaptureId capture) => inner.ApiAddressOf(capture);

        public bool IsLocal(CaptureId capture) => inner.IsLocal(capture);

        public Liveness? LocalLiveness(CaptureId capture) => inner.LocalLiveness(capture);

        public IReadOnlyList<IChangefeedScheduler> LocalSchedulers(CaptureId owner) => inner.LocalSchedulers(owner);

        public Task<bool> ResignOwnerAsync(CaptureId owner, CancellationToken cancellationToken) => inner.ResignOwnerAsync(owner, cancellationToken);
    }

    private sealed class FailingStore : IMetadataStore
    {
        public Task<IReadOnlyList<ChangefeedInfo>> ListChangefeedsAsync(CancellationToken cancellationToken) => throw Down();

        public Task<ChangefeedInfo?> GetChangefeedAsync(ChangefeedId id, CancellationToken cancellationToken) => throw Down();

        public Task PutChangefeedAsync(ChangefeedInfo info, CancellationToken cancellationToken) => throw Down();

        public Task<bool> RemoveChangefeedAsync(ChangefeedId id, CancellationToken cancellationToken) => throw Down();

        public Task<ChangefeedStatus?> GetStatusAsync(ChangefeedId id, CancellationToken cancellationToken) => throw Down();

        public Task<bool> TryPutStatusAsync(ChangefeedId id, ChangefeedStatus status, IOwnerLease owner, CancellationToken cancellationToken) => throw Down();

        private static TimeoutException Down() => new("etcd did not answer");
    }
}
