namespace Capstan.Api.Tests;

using Capstan.Core.Model;
using Capstan.Runtime.Hosting;
using Capstan.Runtime.Metadata;
using Capstan.Runtime.Workload;

/// <summary>
/// An embedded cluster in manual step mode, stepped by one background task as fast as the machine
/// allows (fake time advances 50 ms per step), so that HTTP requests find running owner loops while
/// time, workloads and randomness stay seeded. Waits are condition waits, never sleeps.
/// </summary>
internal sealed class SteppedCluster : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task? _stepper;
    private int _paused;

    private SteppedCluster(EmbeddedCluster cluster) => Cluster = cluster;

    public EmbeddedCluster Cluster { get; }

    public ChangefeedInfo Changefeed { get; private set; } = null!;

    public ulong Seed => Cluster.Options.Seed;

    /// <summary>Starts <paramref name="captures"/> captures and one changefeed "changefeed-1" over tables 1..<paramref name="tables"/>, all replicating.</summary>
    public static async Task<SteppedCluster> StartAsync(int captures = 3, int tables = 12, ulong seed = 7, SchedulerConfig? scheduler = null)
    {
        var cluster = EmbeddedCluster.CreateManual(new EmbeddedClusterOptions
        {
            Seed = seed,
            Host = new HostOptions { Scheduler = scheduler ?? new SchedulerConfig(), GracefulStopTimeoutMilliseconds = 60_000 },
            Executor = new SimulatedExecutorOptions { PrepareMilliseconds = 150, PrepareJitterMilliseconds = 100, StopMilliseconds = 100 },
        });
        var stepped = new SteppedCluster(cluster);
        for (int i = 0; i < captures; i++)
        {
            await cluster.AddCaptureAsync();
        }

        var ids = new List<TableId>();
        for (int i = 1; i <= tables; i++)
        {
            ids.Add(i);
        }

        stepped.Changefeed = await cluster.CreateChangefeedAsync(ids);
        cluster.StepUntil(() => cluster.Snapshot(stepped.Changefeed.Id).AllReplicating, 2_000, "all tables replicating", stepped.Changefeed.Id);
        stepped._stepper = Task.Run(() => stepped.RunAsync(stepped._stop.Token));
        return stepped;
    }

    public ClusterSnapshot Snapshot() => Cluster.Snapshot(Changefeed.Id);

    /// <summary>Waits until <paramref name="condition"/> holds (polling every few ms), failing with the seed and state after <paramref name="seconds"/>.</summary>
    public async Task WaitUntilAsync(Func<bool> condition, string what, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"seed {Seed}: not reached within {seconds} s: {what}\n{Snapshot()}");
            }

            await Task.Delay(5);
        }
    }

    /// <summary>Stops stepping (the owner loop then does not run: commands stay queued).</summary>
    public void Pause() => Interlocked.Exchange(ref _paused, 1);

    /// <summary>Resumes stepping.</summary>
    public void Resume() => Interlocked.Exchange(ref _paused, 0);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_stepper is not null)
        {
            await _stepper;
        }

        await Cluster.DisposeAsync();
        _stop.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            if (Volatile.Read(ref _paused) == 0)
            {
                Cluster.Step();
            }

            try
            {
                await Task.Delay(1, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
