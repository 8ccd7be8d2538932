namespace Capstan.Runtime.Tests.Support;

using System.Diagnostics;

/// <summary>Waits for conditions with a generous deadline instead of sleeping a fixed time.</summary>
public static class Eventually
{
    /// <summary>How long any condition may take before the test fails.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test with <paramref name="what"/> after <see cref="Patience"/>.</summary>
    public static async Task HoldsAsync(Func<bool> condition, string what, TimeSpan? patience = null)
    {
        var limit = patience ?? Patience;
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > limit)
            {
                Assert.Fail($"timed out after {limit.TotalSeconds:0.#} s waiting until {what}");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Polls an async condition until it holds.</summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition, string what, TimeSpan? patience = null)
    {
        var limit = patience ?? Patience;
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > limit)
            {
                Assert.Fail($"timed out after {limit.TotalSeconds:0.#} s waiting until {what}");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Completes when <paramref name="token"/> is cancelled; fails the test after <see cref="Patience"/>.</summary>
    public static Task CancelledAsync(CancellationToken token, string what, TimeSpan? patience = null) =>
        HoldsAsync(() => token.IsCancellationRequested, what, patience);

    /// <summary>Awaits <paramref name="task"/>; fails the test when it takes longer than <see cref="Patience"/>.</summary>
    public static async Task<T> CompletesAsync<T>(Task<T> task, string what, TimeSpan? patience = null)
    {
        var limit = patience ?? Patience;
        try
        {
            return await task.WaitAsync(limit);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"timed out after {limit.TotalSeconds:0.#} s waiting until {what}");
            throw;
        }
    }
}
