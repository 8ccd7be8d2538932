namespace Capstan.Transport.Grpc.Tests;

using System.Diagnostics;
using Capstan.Core.Protocol;
using Capstan.Runtime.Transport;
using Capstan.Transport.Grpc.Tests.Support;
using Xunit.Abstractions;

[Trait("Category", "Integration")]
public sealed class ThroughputTests(ITestOutputHelper output)
{
    [Fact(DisplayName = "Throughput: a producer that honours backpressure gets 100,000 heartbeats across, none lost (prints messages/s)")]
    public async Task SustainedSend_AllDelivered_PrintsRate()
    {
        const int total = 100_000;
        var book = new AddressBook();
        await using var a = await CaptureNode.StartAsync("a", book);
        await using var b = CaptureNode.Create("b", book);
        var agent = b.Open("cf", TransportRole.Agent);
        await b.StartAsync();
        var coordinator = a.Open("cf", TransportRole.Scheduler);
        var messages = new Message[total];
        for (int index = 0; index < total; index++)
        {
            messages[index] = TestMessages.Heartbeat("a", "b", index + 1);
        }

        // Warm up the connection and the JIT.
        Assert.Equal(1, coordinator.Send([messages[0]]));
        await Wait.UntilAsync(() => agent.Receive().Count > 0, () => "warm-up message did not arrive");

        long received = 0;
        var clock = Stopwatch.StartNew();
        int sent = 0;
        var batch = new List<Message>(1024);
        while (received < total)
        {
            bool refused = false;
            if (sent < total)
            {
                batch.Clear();
                for (int index = sent; index < Math.Min(total, sent + 1024); index++)
                {
                    batch.Add(messages[index]);
                }

                // Refused messages (buffer full) are offered again later: counted backpressure, never a silent loss.
                int accepted = coordinator.Send(batch);
                sent += accepted;
                refused = accepted < batch.Count;
            }

            received += agent.Receive().Count;
            if (refused || sent == total)
            {
                await Task.Delay(1);   // back off like a host loop would until its next tick
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"only {received} of {total} arrived");
        }

        clock.Stop();
        var counters = a.Transport.Counters;
        output.WriteLine(
            $"{total:N0} heartbeats in {clock.Elapsed.TotalMilliseconds:N0} ms = {total / clock.Elapsed.TotalSeconds:N0} messages/s; "
            + $"{counters.SentFrames:N0} frames ({(double)counters.SentMessages / counters.SentFrames:N1} messages/frame); "
            + $"{counters.RefusedSendBufferFull:N0} refusals (buffer full) retried");
        Assert.Equal(total + 1, counters.SentMessages);
        Assert.Equal(0, counters.DroppedOnDisconnect);
        Assert.Equal(total + 1, b.Transport.Counters.Received);
    }
}
