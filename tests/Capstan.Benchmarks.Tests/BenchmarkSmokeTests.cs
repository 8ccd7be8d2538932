namespace Capstan.Benchmarks.Tests;

using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Capstan.Benchmarks.Memory;

/// <summary>
/// Runs every benchmark once at a tiny size with BenchmarkDotNet's dry job in this process, so
/// that none rots (a setup that no longer reaches its state throws). No timing is asserted.
/// </summary>
public sealed class BenchmarkSmokeTests
{
    [Fact(DisplayName = "Smoke: every benchmark runs once at 4 tables with the dry in-process job")]
    public void EveryBenchmark_RunsOnce()
    {
        string? previous = Environment.GetEnvironmentVariable(BenchmarkSizes.EnvironmentVariable);
        string artifacts = Path.Combine(Path.GetTempPath(), "capstan-bench-smoke-" + Environment.ProcessId);
        Environment.SetEnvironmentVariable(BenchmarkSizes.EnvironmentVariable, "4");
        try
        {
            var config = ManualConfig.CreateEmpty()
                .AddJob(Job.Dry.WithToolchain(InProcessEmitToolchain.Instance))
                .AddLogger(NullLogger.Instance)
                .WithArtifactsPath(artifacts)
                .WithOptions(ConfigOptions.DisableLogFile | ConfigOptions.JoinSummary);
            var types = typeof(Program).Assembly.GetTypes()
                .Where(type => type.IsPublic && !type.IsAbstract && type.Name.EndsWith("Benchmarks", StringComparison.Ordinal))
                .ToArray();
            Assert.True(types.Length >= 7, $"found only {types.Length} benchmark classes");

            var summaries = BenchmarkRunner.Run(types, config);

            var cases = summaries.SelectMany(summary => summary.BenchmarksCases).ToList();
            var reports = summaries.SelectMany(summary => summary.Reports).ToList();
            Assert.All(summaries, summary => Assert.False(summary.HasCriticalValidationErrors, string.Join("; ", summary.ValidationErrors)));
            Assert.True(cases.Count >= 15, $"only {cases.Count} benchmark cases ran");
            Assert.All(reports, report => Assert.True(report.Success, $"{report.BenchmarkCase.DisplayInfo} failed"));
            Assert.Equal(cases.Count, reports.Count);
        }
        finally
        {
            Environment.SetEnvironmentVariable(BenchmarkSizes.EnvironmentVariable, previous);
            if (Directory.Exists(artifacts))
            {
                Directory.Delete(artifacts, recursive: true);
            }
        }
    }

    [Fact(DisplayName = "Smoke: the memory report measures a small coordinator")]
    public void MemoryReport_MeasuresRetainedBytes()
    {
        var result = CoordinatorMemory.Measure(spans: 256, captures: 8);

        Assert.Equal(256, result.Spans);
        Assert.True(result.RetainedBytes > 0, $"retained {result.RetainedBytes} bytes");
        Assert.True(result.SetsOnlyBytes > 0, $"sets alone {result.SetsOnlyBytes} bytes");
    }

    [Fact(DisplayName = "Sizes: doubling up to the maximum, replaced by the --sizes list")]
    public void Sizes_DoubleUpToTheMaximum_UnlessOverridden()
    {
        string? previous = Environment.GetEnvironmentVariable(BenchmarkSizes.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(BenchmarkSizes.EnvironmentVariable, null);
            Assert.Equal([1, 2, 4, 8, 16], BenchmarkSizes.Doubling(16));
            Assert.Equal([3, 5], BenchmarkSizes.Fixed(3, 5));

            Environment.SetEnvironmentVariable(BenchmarkSizes.EnvironmentVariable, "1024, 131072");
            Assert.Equal([1024, 131072], BenchmarkSizes.Doubling(16));
            Assert.Equal([1024, 131072], BenchmarkSizes.Fixed(3, 5));
        }
        finally
        {
            Environment.SetEnvironmentVariable(BenchmarkSizes.EnvironmentVariable, previous);
        }
    }
}
