namespace Capstan.Benchmarks;

using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;

/// <summary>
/// A quick measurement for profiling on a busy machine: runs one benchmark method in this process
/// and reports the thread's CPU time (not wall time, so other processes' load matters less) and
/// the bytes allocated per operation. Usage:
/// <c>probe &lt;Class&gt; &lt;Method&gt; [Param=value ...] [ops=N] [rounds=N]</c>,
/// e.g. <c>probe CoordinatorHeartbeatResponseBenchmarks Poll Tables=131072</c>.
/// Not a replacement for BenchmarkDotNet's figures.
/// </summary>
public static partial class Probe
{
    private const int ThreadCpuClock = 3; // CLOCK_THREAD_CPUTIME_ID

    /// <summary>Runs the probe and prints one line.</summary>
    public static int Run(string[] args, TextWriter output)
    {
        if (args.Length < 2)
        {
            output.WriteLine("usage: probe <Class> <Method> [Param=value ...] [ops=N] [rounds=N]");
            return 2;
        }

        var type = typeof(Probe).Assembly.GetTypes().Single(t => t.Name == args[0]);
        var method = type.GetMethods().Single(m => m.Name == args[1] && m.GetCustomAttribute<BenchmarkAttribute>() is not null);
        object instance = Activator.CreateInstance(type)!;
        int ops = 0;
        int rounds = 5;
        foreach (var pair in args.Skip(2))
        {
            var (name, value) = (pair[..pair.IndexOf('=')], pair[(pair.IndexOf('=') + 1)..]);
            if (name == "ops")
            {
                ops = int.Parse(value, CultureInfo.InvariantCulture);
            }
            else if (name == "rounds")
            {
                rounds = int.Parse(value, CultureInfo.InvariantCulture);
            }
            else
            {
                var property = type.GetProperty(name)!;
                property.SetValue(instance, Convert.ChangeType(value, property.PropertyType, CultureInfo.InvariantCulture));
            }
        }

        Invoke<GlobalSetupAttribute>(type, instance);
        var iterationSetup = type.GetMethods().FirstOrDefault(m => m.GetCustomAttribute<IterationSetupAttribute>() is not null);
        if (ops == 0)
        {
            ops = Calibrate(instance, method, iterationSetup);
        }

        double best = double.MaxValue;
        long allocated = 0;
        for (int round = 0; round < rounds; round++)
        {
            var (cpu, bytes) = iterationSetup is null ? Batch(instance, method, ops) : OneByOne(instance, method, iterationSetup, ops);

            best = Math.Min(best, (double)cpu / ops);
            allocated = bytes / ops;
        }

        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{type.Name}.{method.Name} {string.Join(' ', args.Skip(2))}: {Format(best)} CPU/op (best of {rounds} rounds × {ops} ops), {allocated:N0} B/op"));
        return 0;
    }

    /// <summary>Times <paramref name="ops"/> calls at once (clock reads cost more than a tiny benchmark).</summary>
    private static (long Cpu, long Bytes) Batch(object instance, MethodInfo method, int ops)
    {
        var call = System.Linq.Expressions.Expression.Lambda<Action>(
            System.Linq.Expressions.Expression.Call(System.Linq.Expressions.Expression.Constant(instance), method)).Compile();
        long bytesBefore = GC.GetAllocatedBytesForCurrentThread();
        long start = ThreadCpuNanoseconds();
        for (int op = 0; op < ops; op++)
        {
            call();
        }

        return (ThreadCpuNanoseconds() - start, GC.GetAllocatedBytesForCurrentThread() - bytesBefore);
    }

    /// <summary>Times each call after its iteration setup.</summary>
    private static (long Cpu, long Bytes) OneByOne(object instance, MethodInfo method, MethodInfo iterationSetup, int ops)
    {
        long cpu = 0;
        long bytes = 0;
        for (int op = 0; op < ops; op++)
        {
            iterationSetup.Invoke(instance, null);
            long bytesBefore = GC.GetAllocatedBytesForCurrentThread();
            long start = ThreadCpuNanoseconds();
            method.Invoke(instance, null);
            cpu += ThreadCpuNanoseconds() - start;
            bytes += GC.GetAllocatedBytesForCurrentThread() - bytesBefore;
        }

        return (cpu, bytes);
    }

    private static int Calibrate(object instance, MethodInfo method, MethodInfo? iterationSetup)
    {
        for (int ops = 1; ; ops *= 2)
        {
            var (cpu, _) = iterationSetup is null ? Batch(instance, method, ops) : OneByOne(instance, method, iterationSetup, ops);
            if (cpu >= 50_000_000 || ops >= 1 << 24)
            {
                return (int)Math.Clamp(200_000_000L * ops / Math.Max(cpu, 1), 1, 1 << 24); // about 0.2 s of CPU per round
            }
        }
    }

    private static void Invoke<TAttribute>(Type type, object instance)
        where TAttribute : Attribute
    {
        foreach (var setup in type.GetMethods().Where(m => m.GetCustomAttribute<TAttribute>() is not null))
        {
            setup.Invoke(instance, null);
        }
    }

    private static string Format(double nanoseconds) => nanoseconds switch
    {
        < 10_000 => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds:F1} ns"),
        < 10_000_000 => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1_000:F2} µs"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1_000_000:F2} ms"),
    };

    private static long ThreadCpuNanoseconds()
    {
        if (ClockGetTime(ThreadCpuClock, out var time) != 0)
        {
            throw new InvalidOperationException("clock_gettime failed");
        }

        return (time.Seconds * 1_000_000_000L) + time.Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
