"""Splitting spoken text into pieces a TTS engine accepts.

Every line is cut on its own.  Within a line the cut points are chosen together (dynamic
programming) so that pieces end at sentence ends, then at ";" and ":", then at commas,
then before function words such as "và", "của", "để"; cuts inside a common compound
("sàng lọc") or inside a spoken number ("hai mươi lăm") are avoided, and pieces are kept
balanced so that no tiny piece is left over when a better cut exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from .text import word_list

_SENTENCE_END = ".?!"
_CLAUSE_END = ";:"

FUNCTION_WORDS = frozenset(
    word_list(
        """
    và hoặc hay nhưng song để của cho với trong theo tại khi nếu những các từ đến về do
    bởi vì nên mà thì là như nhằm đối trên dưới sau trước bằng qua cùng giữa ngoài gồm
    thuộc nơi đã đang sẽ cần phải kể tuy còn vào mỗi mọi từng
    """
    )
)

NUMBER_WORDS = frozenset(
    word_list(
        """
    không một hai ba bốn năm sáu bảy tám chín mười mươi trăm nghìn ngàn triệu tỷ linh
    lăm mốt tư phẩy chấm
    """
    )
)

# Two-syllable words common in ward bulletins; a cut between their syllables sounds
# broken ("khám sàng | lọc").  Many end in a syllable that is also a function word
# ("đối với", "thông qua"), so they must win over the function-word rule.
COMPOUNDS = frozenset(
    tuple(pair.split("_"))
    for pair in word_list(
        """
    an_toàn an_ninh an_sinh ảnh_hưởng áp_dụng bao_gồm báo_cáo báo_trước bảo_đảm bảo_hiểm
    bảo_hộ bảo_vệ bão_lũ bắt_buộc bắt_đầu bên_trong bên_ngoài bên_trên bệnh_nhân
    bệnh_viện biện_pháp bình_đẳng bình_thường bồi_thường bổ_sung cá_nhân cải_cách
    cải_thiện cán_bộ cảnh_báo cảnh_giác cảnh_sát cao_tuổi cấp_bách cấp_cứu cấp_điện
    cấp_dưới cấp_nước cấp_trên cân_đối căn_cứ căn_cước chăm_sóc chất_lượng chỉ_đạo
    chỉ_thị chỉ_tiêu chính_quyền chính_sách chính_trị chủ_động chủ_nhật chủ_trì
    chủ_trương chủ_tịch chuẩn_bị chương_trình chữa_cháy chuyển_biến chuyên_môn
    có_thể cộng_đồng công_an công_bằng công_chức công_dân công_đoàn công_khai
    công_nghiệp công_nhân công_tác công_trình công_ty cơ_quan cơ_sở cụ_thể cung_cấp
    cuối_cùng cũng_như cứu_hộ cứu_nạn cư_dân cư_trú dành_cho dân_cư dân_số dịch_bệnh
    dịch_vụ diễn_ra diễn_tập doanh_nghiệp du_lịch dự_báo dự_kiến đại_biểu đại_hội
    đảng_viên đăng_ký đánh_giá đào_tạo đầu_tư đề_nghị đi_vào điện_lực điện_thoại
    điều_chỉnh điều_kiện điều_trị định_kỳ địa_bàn địa_chỉ địa_phương đoàn_thể
    đoàn_viên đó_là đối_tượng đối_với đơn_vị đồng_bộ đồng_chí đồng_thời đúng_giờ
    đường_dây gia_đình giải_quyết giám_định giám_sát giáo_dục giao_thông giấy_tờ
    hàng_năm hàng_ngày hành_chính hành_động hành_vi hiện_nay hiện_tại hiệu_quả
    hoạt_động hoặc_là học_sinh hỗ_trợ hội_nghị hội_viên hướng_dẫn kèm_theo khả_năng
    khám_bệnh khẩn_cấp khen_thưởng khó_khăn khu_phố khu_vực kiểm_soát kiểm_tra
    kinh_doanh kinh_phí kinh_tế kịp_thời kế_hoạch kết_quả kể_từ lãnh_đạo lao_động
    lây_lan lây_nhiễm liên_hệ liên_quan lưu_ý mặt_trận miễn_phí môi_trường mọi_nơi
    mục_đích mục_tiêu mưa_lớn nằm_trong nâng_cao ngập_lụt nghề_nghiệp nghiêm_túc
    nghĩa_vụ nghị_định nghị_quyết người_dân nguy_cơ nguy_hiểm nhà_nước nhân_dân
    nhân_viên nhất_là nhận_thức nhiệm_vụ nội_dung nông_thôn nước_ngoài phản_đối
    phát_hiện phát_thanh phát_triển pháp_luật phía_sau phía_trước phòng_chống
    phòng_cháy phòng_ngừa phòng_tránh phổ_biến phối_hợp phụ_huynh phụ_nữ phụ_thuộc
    phục_vụ quán_triệt quan_tâm quản_lý quốc_gia quốc_phòng quy_định quy_hoạch
    sàng_lọc sau_khi sản_xuất sinh_hoạt so_với sức_khỏe sử_dụng sự_cố tài_liệu
    tai_nạn tạm_ngừng tạm_dừng tăng_cường tập_thể tập_trung thành_phố thành_viên
    thanh_niên thanh_tra thay_đổi thẩm_quyền thiên_tai thời_gian thời_tiết thông_báo
    thông_qua thông_tin thủ_tục thực_hiện thực_phẩm thường_gặp thường_xuyên tiêm_chủng
    tiếp_nhận tiếp_theo tính_đến tình_hình tổ_chức tổ_dân trách_nhiệm trật_tự
    triển_khai trong_khi trở_nên trở_về trực_thuộc trung_ương trung_tâm trước_khi
    trường_học tuyên_truyền tuyệt_đối tức_là tương_đối tư_vấn tự_do tham_gia tham_mưu
    ủy_ban văn_bản văn_hóa vận_động vệ_sinh vi_phạm việc_làm vô_cùng vượt_qua vắc_xin
    xã_hội xây_dựng xử_lý xử_phạt y_tế ý_thức yêu_cầu
    """
    )
)

_COST_SENTENCE = 0.0
_COST_CLAUSE = 2.0
_COST_COMMA = 3.0
_COST_BEFORE_FUNCTION = 6.0
_COST_ORDINARY = 20.0
_COST_AFTER_FUNCTION = 24.0
_COST_NAME = 28.0
_COST_COMPOUND = 40.0
_COST_PER_CHUNK = 8.0
_COST_SHORTNESS = 10.0


def _bare(word: str) -> str:
    return word.strip(".,;:?!").lower()


def _cut_cost(previous: str, following: str) -> float:
    """Cost of ending a piece after ``previous`` and starting the next at ``following``."""
    if previous[-1] in _SENTENCE_END:
        return _COST_SENTENCE
    if previous[-1] in _CLAUSE_END:
        return _COST_CLAUSE
    if previous[-1] == ",":
        return _COST_COMMA
    left, right = _bare(previous), _bare(following)
    if (left, right) in COMPOUNDS or (left in NUMBER_WORDS and right in NUMBER_WORDS):
        return _COST_COMPOUND
    if previous[:1].isupper() and following[:1].isupper():
        return _COST_NAME
    if left in FUNCTION_WORDS:
        return _COST_AFTER_FUNCTION
    if right in FUNCTION_WORDS:
        return _COST_BEFORE_FUNCTION
    return _COST_ORDINARY


@dataclass(frozen=True)
class _Plan:
    cost: float
    start: int


def _split_long_words(words: list[str], max_chars: int) -> list[str]:
    pieces: list[str] = []
    for word in words:
        pieces.extend(word[i : i + max_chars] for i in range(0, len(word), max_chars))
    return pieces


def _chunk_line(words: list[str], max_chars: int) -> list[str]:
    words = _split_long_words(words, max_chars)
    count = len(words)
    offsets = [0]
    for word in words:
        offsets.append(offsets[-1] + len(word) + 1)
    cuts = [0.0] + [_cut_cost(words[i - 1], words[i]) for i in range(1, count)] + [0.0]
    best: list[_Plan] = [_Plan(0.0, 0)]
    for end in range(1, count + 1):
        plan = _Plan(float("inf"), end - 1)
        start = end - 1
        while start >= 0:
            length = offsets[end] - offsets[start] - 1
            if length > max_chars and start < end - 1:
                break
            shortness = (max_chars - length) / max_chars
            cost = (
                best[start].cost
                + _COST_PER_CHUNK
                + _COST_SHORTNESS * shortness * shortness
                + cuts[end]
            )
            if cost < plan.cost:
                plan = _Plan(cost, start)
            start -= 1
        best.append(plan)
    chunks: list[str] = []
    end = count
    while end > 0:
        start = best[end].start
        chunks.append(" ".join(words[start:end]))
        end = start
    return chunks[::-1]


def chunk_spoken(text: str, max_chars: int = 100) -> list[str]:
    """Split spoken text into pieces of at most ``max_chars`` characters.

    Lines are never joined; words are never split unless a single word is longer than
    ``max_chars``.  Joining the pieces with spaces gives the text's words in order.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    chunks: list[str] = []
    for line in text.splitlines():
        words = line.split()
        if words:
            chunks.extend(_chunk_line(words, max_chars))
    return chunks
