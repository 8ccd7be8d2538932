namespace Capstan.Benchmarks;

using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;

/// <summary>
/// The default configuration: one launch, 3 warm-up and 5 measured iterations (total wall time
/// stays reasonable on 2 vCPUs), median and allocation columns. Classes with huge sizes lower the
/// counts with their own attributes.
/// </summary>
public static class BenchConfig
{
    /// <summary>The configuration used by <c>Program</c>.</summary>
    public static IConfig Create() => DefaultConfig.Instance
        .AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(5).AsDefault())
        .AddColumn(StatisticColumn.Median)
        .WithBuildTimeout(TimeSpan.FromMinutes(15)) // a loaded 2-vCPU machine needs more than the default 2 minutes
        .WithOptions(ConfigOptions.JoinSummary);
}
