namespace Capstan.Transport.Grpc.Tests.Support;

using System.Diagnostics;

/// <summary>Condition waits with a generous deadline (never a fixed sleep as synchronisation).</summary>
public static class Wait
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    public static async Task UntilAsync(Func<bool> condition, Func<string> describe, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        var limit = timeout ?? DefaultTimeout;
        while (!condition())
        {
            if (clock.Elapsed > limit)
            {
                Assert.Fail($"condition not met within {limit.TotalSeconds:0.#} s: {describe()}");
            }

            await Task.Delay(5);
        }
    }
}
