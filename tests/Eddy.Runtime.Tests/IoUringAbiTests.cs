using System.Diagnostics;
using System.Runtime.InteropServices;
using Eddy.Native;
using Eddy.Native.IoUring;
using static Eddy.Native.IoUring.IoUringConstants;

namespace Eddy.Runtime.Tests;

/// <summary>Compiles a C probe against the kernel headers and compares every size, offset and constant we declare.</summary>
public class IoUringAbiTests
{
    private const string Probe = """
        #include <stdio.h>
        #include <stddef.h>
        #include <sys/epoll.h>
        #include <linux/io_uring.h>
        #include <linux/stat.h>
        #define P(name, value) printf("%s=%llu\n", name, (unsigned long long)(value))
        int main(void) {
          P("sizeof(sqe)", sizeof(struct io_uring_sqe));
          P("sizeof(cqe)", sizeof(struct io_uring_cqe));
          P("sizeof(params)", sizeof(struct io_uring_params));
          P("sizeof(sq_off)", sizeof(struct io_sqring_offsets));
          P("sizeof(cq_off)", sizeof(struct io_cqring_offsets));
          P("sizeof(buf)", sizeof(struct io_uring_buf));
          P("sizeof(buf_reg)", sizeof(struct io_uring_buf_reg));
          P("sizeof(getevents_arg)", sizeof(struct io_uring_getevents_arg));
          P("sizeof(epoll_event)", sizeof(struct epoll_event));
          P("sizeof(statx)", sizeof(struct statx));
          P("sqe.opcode", offsetof(struct io_uring_sqe, opcode));
          P("sqe.flags", offsetof(struct io_uring_sqe, flags));
          P("sqe.ioprio", offsetof(struct io_uring_sqe, ioprio));
          P("sqe.fd", offsetof(struct io_uring_sqe, fd));
          P("sqe.off", offsetof(struct io_uring_sqe, off));
          P("sqe.addr", offsetof(struct io_uring_sqe, addr));
          P("sqe.len", offsetof(struct io_uring_sqe, len));
          P("sqe.rw_flags", offsetof(struct io_uring_sqe, rw_flags));
          P("sqe.user_data", offsetof(struct io_uring_sqe, user_data));
          P("sqe.buf_index", offsetof(struct io_uring_sqe, buf_index));
          P("sqe.personality", offsetof(struct io_uring_sqe, personality));
          P("sqe.splice_fd_in", offsetof(struct io_uring_sqe, splice_fd_in));
          P("sqe.addr3", offsetof(struct io_uring_sqe, addr3));
          P("params.features", offsetof(struct io_uring_params, features));
          P("params.sq_off", offsetof(struct io_uring_params, sq_off));
          P("params.cq_off", offsetof(struct io_uring_params, cq_off));
          P("cq_off.cqes", offsetof(struct io_cqring_offsets, cqes));
          P("sq_off.array", offsetof(struct io_sqring_offsets, array));
          P("buf.bid", offsetof(struct io_uring_buf, bid));
          P("buf.resv", offsetof(struct io_uring_buf, resv));
          P("statx.stx_size", offsetof(struct statx, stx_size));
          P("statx.stx_dio_mem_align", offsetof(struct statx, stx_dio_mem_align));
          P("statx.stx_dio_offset_align", offsetof(struct statx, stx_dio_offset_align));
          P("IORING_SETUP_CQSIZE", IORING_SETUP_CQSIZE);
          P("IORING_SETUP_CLAMP", IORING_SETUP_CLAMP);
          P("IORING_SETUP_SUBMIT_ALL", IORING_SETUP_SUBMIT_ALL);
          P("IORING_SETUP_COOP_TASKRUN", IORING_SETUP_COOP_TASKRUN);
          P("IORING_SETUP_SINGLE_ISSUER", IORING_SETUP_SINGLE_ISSUER);
          P("IORING_SETUP_DEFER_TASKRUN", IORING_SETUP_DEFER_TASKRUN);
          P("IORING_FEAT_SINGLE_MMAP", IORING_FEAT_SINGLE_MMAP);
          P("IORING_FEAT_NODROP", IORING_FEAT_NODROP);
          P("IORING_FEAT_EXT_ARG", IORING_FEAT_EXT_ARG);
          P("IORING_OFF_SQ_RING", IORING_OFF_SQ_RING);
          P("IORING_OFF_CQ_RING", IORING_OFF_CQ_RING);
          P("IORING_OFF_SQES", IORING_OFF_SQES);
          P("IORING_ENTER_GETEVENTS", IORING_ENTER_GETEVENTS);
          P("IORING_ENTER_EXT_ARG", IORING_ENTER_EXT_ARG);
          P("IOSQE_IO_LINK", IOSQE_IO_LINK);
          P("IOSQE_BUFFER_SELECT", IOSQE_BUFFER_SELECT);
          P("IOSQE_CQE_SKIP_SUCCESS", IOSQE_CQE_SKIP_SUCCESS);
          P("IORING_OP_NOP", IORING_OP_NOP);
          P("IORING_OP_FSYNC", IORING_OP_FSYNC);
          P("IORING_OP_READ_FIXED", IORING_OP_READ_FIXED);
          P("IORING_OP_WRITE_FIXED", IORING_OP_WRITE_FIXED);
          P("IORING_OP_TIMEOUT", IORING_OP_TIMEOUT);
          P("IORING_OP_ACCEPT", IORING_OP_ACCEPT);
          P("IORING_OP_ASYNC_CANCEL", IORING_OP_ASYNC_CANCEL);
          P("IORING_OP_CONNECT", IORING_OP_CONNECT);
          P("IORING_OP_FALLOCATE", IORING_OP_FALLOCATE);
          P("IORING_OP_READ", IORING_OP_READ);
          P("IORING_OP_WRITE", IORING_OP_WRITE);
          P("IORING_OP_SEND", IORING_OP_SEND);
          P("IORING_OP_RECV", IORING_OP_RECV);
          P("IORING_FSYNC_DATASYNC", IORING_FSYNC_DATASYNC);
          P("IORING_TIMEOUT_ABS", IORING_TIMEOUT_ABS);
          P("IORING_ACCEPT_MULTISHOT", IORING_ACCEPT_MULTISHOT);
          P("IORING_RECV_MULTISHOT", IORING_RECV_MULTISHOT);
          P("IORING_CQE_F_BUFFER", IORING_CQE_F_BUFFER);
          P("IORING_CQE_F_MORE", IORING_CQE_F_MORE);
          P("IORING_CQE_BUFFER_SHIFT", IORING_CQE_BUFFER_SHIFT);
          P("IORING_REGISTER_BUFFERS", IORING_REGISTER_BUFFERS);
          P("IORING_REGISTER_PBUF_RING", IORING_REGISTER_PBUF_RING);
          P("IORING_UNREGISTER_PBUF_RING", IORING_UNREGISTER_PBUF_RING);
          P("STATX_DIOALIGN", STATX_DIOALIGN);
          return 0;
        }
        """;

    private static Dictionary<string, ulong> HeaderValues()
    {
        string dir = Directory.CreateTempSubdirectory("eddy-abi-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "probe.c"), Probe);
            Run("gcc", $"-o {dir}/probe {dir}/probe.c");
            return Run($"{dir}/probe", "")
                .Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split('='))
                .ToDictionary(kv => kv[0], kv => ulong.Parse(kv[1]));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Run(string file, string args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        string output = p.StandardOutput.ReadToEnd();
        string error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{file} {args} failed: {error}");
        return output;
    }

    [Fact]
    public void StructuresAndConstantsMatchTheKernelHeaders()
    {
        var h = HeaderValues();
        var ours = new Dictionary<string, ulong>
        {
            ["sizeof(sqe)"] = (ulong)Marshal.SizeOf<Sqe>(),
            ["sizeof(cqe)"] = (ulong)Marshal.SizeOf<Cqe>(),
            ["sizeof(params)"] = (ulong)Marshal.SizeOf<IoUringParams>(),
            ["sizeof(sq_off)"] = (ulong)Marshal.SizeOf<SqRingOffsets>(),
            ["sizeof(cq_off)"] = (ulong)Marshal.SizeOf<CqRingOffsets>(),
            ["sizeof(buf)"] = (ulong)Marshal.SizeOf<RingBuf>(),
            ["sizeof(buf_reg)"] = (ulong)Marshal.SizeOf<BufReg>(),
            ["sizeof(getevents_arg)"] = (ulong)Marshal.SizeOf<GetEventsArg>(),
            ["sizeof(epoll_event)"] = (ulong)Marshal.SizeOf<EpollEvent>(),
            ["sizeof(statx)"] = (ulong)Marshal.SizeOf<Statx>(),
            ["sqe.opcode"] = Offset<Sqe>(nameof(Sqe.Opcode)),
            ["sqe.flags"] = Offset<Sqe>(nameof(Sqe.Flags)),
            ["sqe.ioprio"] = Offset<Sqe>(nameof(Sqe.IoPrio)),
            ["sqe.fd"] = Offset<Sqe>(nameof(Sqe.Fd)),
            ["sqe.off"] = Offset<Sqe>(nameof(Sqe.Off)),
            ["sqe.addr"] = Offset<Sqe>(nameof(Sqe.Addr)),
            ["sqe.len"] = Offset<Sqe>(nameof(Sqe.Len)),
            ["sqe.rw_flags"] = Offset<Sqe>(nameof(Sqe.OpFlags)),
            ["sqe.user_data"] = Offset<Sqe>(nameof(Sqe.UserData)),
            ["sqe.buf_index"] = Offset<Sqe>(nameof(Sqe.BufIndex)),
            ["sqe.personality"] = Offset<Sqe>(nameof(Sqe.Personality)),
            ["sqe.splice_fd_in"] = Offset<Sqe>(nameof(Sqe.SpliceFdIn)),
            ["sqe.addr3"] = Offset<Sqe>(nameof(Sqe.Addr3)),
            ["params.features"] = Offset<IoUringParams>(nameof(IoUringParams.Features)),
            ["params.sq_off"] = Offset<IoUringParams>(nameof(IoUringParams.SqOff)),
            ["params.cq_off"] = Offset<IoUringParams>(nameof(IoUringParams.CqOff)),
            ["cq_off.cqes"] = Offset<CqRingOffsets>(nameof(CqRingOffsets.Cqes)),
            ["sq_off.array"] = Offset<SqRingOffsets>(nameof(SqRingOffsets.Array)),
            ["buf.bid"] = Offset<RingBuf>(nameof(RingBuf.Bid)),
            ["buf.resv"] = Offset<RingBuf>(nameof(RingBuf.Resv)),
            ["statx.stx_size"] = Offset<Statx>(nameof(Statx.Size)),
            ["statx.stx_dio_mem_align"] = Offset<Statx>(nameof(Statx.DioMemAlign)),
            ["statx.stx_dio_offset_align"] = Offset<Statx>(nameof(Statx.DioOffsetAlign)),
            ["IORING_SETUP_CQSIZE"] = SetupCqSize,
            ["IORING_SETUP_CLAMP"] = SetupClamp,
            ["IORING_SETUP_SUBMIT_ALL"] = SetupSubmitAll,
            ["IORING_SETUP_COOP_TASKRUN"] = SetupCoopTaskrun,
            ["IORING_SETUP_SINGLE_ISSUER"] = SetupSingleIssuer,
            ["IORING_SETUP_DEFER_TASKRUN"] = SetupDeferTaskrun,
            ["IORING_FEAT_SINGLE_MMAP"] = FeatSingleMmap,
            ["IORING_FEAT_NODROP"] = FeatNoDrop,
            ["IORING_FEAT_EXT_ARG"] = FeatExtArg,
            ["IORING_OFF_SQ_RING"] = OffSqRing,
            ["IORING_OFF_CQ_RING"] = OffCqRing,
            ["IORING_OFF_SQES"] = OffSqes,
            ["IORING_ENTER_GETEVENTS"] = EnterGetEvents,
            ["IORING_ENTER_EXT_ARG"] = EnterExtArg,
            ["IOSQE_IO_LINK"] = SqeIoLink,
            ["IOSQE_BUFFER_SELECT"] = SqeBufferSelect,
            ["IOSQE_CQE_SKIP_SUCCESS"] = SqeCqeSkipSuccess,
            ["IORING_OP_NOP"] = OpNop,
            ["IORING_OP_FSYNC"] = OpFsync,
            ["IORING_OP_READ_FIXED"] = OpReadFixed,
            ["IORING_OP_WRITE_FIXED"] = OpWriteFixed,
            ["IORING_OP_TIMEOUT"] = OpTimeout,
            ["IORING_OP_ACCEPT"] = OpAccept,
            ["IORING_OP_ASYNC_CANCEL"] = OpAsyncCancel,
            ["IORING_OP_CONNECT"] = OpConnect,
            ["IORING_OP_FALLOCATE"] = OpFallocate,
            ["IORING_OP_READ"] = OpRead,
            ["IORING_OP_WRITE"] = OpWrite,
            ["IORING_OP_SEND"] = OpSend,
            ["IORING_OP_RECV"] = OpRecv,
            ["IORING_FSYNC_DATASYNC"] = FsyncDatasync,
            ["IORING_TIMEOUT_ABS"] = TimeoutAbs,
            ["IORING_ACCEPT_MULTISHOT"] = AcceptMultishot,
            ["IORING_RECV_MULTISHOT"] = RecvMultishot,
            ["IORING_CQE_F_BUFFER"] = CqeFBuffer,
            ["IORING_CQE_F_MORE"] = CqeFMore,
            ["IORING_CQE_BUFFER_SHIFT"] = CqeBufferShift,
            ["IORING_REGISTER_BUFFERS"] = RegisterBuffers,
            ["IORING_REGISTER_PBUF_RING"] = RegisterPbufRing,
            ["IORING_UNREGISTER_PBUF_RING"] = UnregisterPbufRing,
            ["STATX_DIOALIGN"] = 0x2000,
        };
        Assert.Equal(h.Keys.Order(), ours.Keys.Order());
        var mismatches = ours.Where(kv => h[kv.Key] != kv.Value).Select(kv => $"{kv.Key}: ours {kv.Value}, header {h[kv.Key]}").ToList();
        Assert.Empty(mismatches);
    }

    private static ulong Offset<T>(string field) => (ulong)Marshal.OffsetOf<T>(field);

    [Fact]
    public void ARingCanBeCreatedAndRunsANop()
    {
        using var ring = IoUringRing.Create(8);
        unsafe
        {
            SqePrep.Nop(ring.TryGetSqe(), 42);
        }
        ring.SubmitAndWait(1_000_000_000);
        Assert.True(ring.TryPeekCqe(out var cqe));
        ring.AdvanceCq();
        Assert.Equal(42UL, cqe.UserData);
        Assert.Equal(0, cqe.Res);
    }

    [Fact]
    public void FailedCallsCarryTheOperationAndErrno()
    {
        var e = Assert.Throws<NativeException>(() => DirectIo.Open("/nonexistent-dir/file", create: false));
        Assert.Equal(Errno.ENOENT, e.Errno);
        Assert.Contains("open(/nonexistent-dir/file, O_DIRECT)", e.Message);
        Assert.Contains("ENOENT", e.Message);
    }
}
