// i18n.js - the console's strings in Bahasa Indonesia (default) and English.
// t(key, vars) looks the key up in the current language, then Indonesian, then
// returns the key itself; {name} in a string is replaced from vars.

const STRINGS = {
	id: {
		nav_queue: 'Antrean', nav_overdue: 'Terlambat', nav_dashboard: 'Dasbor', nav_broadcasts: 'Siaran',
		logout: 'Keluar', lang_other: 'English', loading: 'Memuat...',
		login_title: 'Masuk petugas', username: 'Nama pengguna', password: 'Kata sandi', login: 'Masuk',
		login_failed: 'Gagal masuk', session_expired: 'Sesi berakhir. Silakan masuk lagi.',
		queue_title: 'Antrean pengaduan', overdue_title: 'Pengaduan terlambat', search: 'Cari',
		search_ph: 'Nomor pengaduan atau nomor HP', filter: 'Terapkan', reset: 'Hapus filter',
		all: '(semua)', state: 'Status', program: 'Program', type: 'Jenis', kecamatan: 'Kecamatan',
		kelurahan: 'Kelurahan', channel: 'Kanal', overdue_only: 'Hanya yang terlambat',
		mine_only: 'Ditugaskan ke saya', export_csv: 'Unduh CSV', number: 'Nomor', due: 'Batas waktu',
		assigned: 'Petugas', created: 'Dibuat', updated: 'Diubah', phone: 'No. HP', nik: 'NIK', nik_reveal: 'Tampilkan NIK (dicatat)',
		total: '{n} pengaduan', none_found: 'Tidak ada pengaduan.', prev: 'Sebelumnya', next: 'Berikutnya',
		late: 'terlambat', escalated: 'dieskalasi', back_to_queue: 'Kembali ke antrean',
		ticket: 'Pengaduan', details: 'Rincian', subject: 'Untuk', subject_self: 'diri sendiri/keluarga',
		subject_other: 'orang lain', location: 'Lokasi', description: 'Uraian', language: 'Bahasa',
		dtks: 'Status DTKS', dtks_registered: 'Terdaftar di DTKS', dtks_not_registered: 'Tidak terdaftar di DTKS',
		dtks_unknown: 'Belum diketahui', referral: 'Rujukan', level: 'Tingkat', level_city: 'Kota/kabupaten',
		level_province: 'Provinsi', level_national: 'Nasional', organisation: 'Instansi/organisasi',
		reference: 'Nomor rujukan mitra', outcome: 'Hasil', reason: 'Alasan', question: 'Pertanyaan untuk warga',
		note: 'Catatan (opsional)', satisfaction: 'Kepuasan', linked_to: 'Terkait dengan',
		actions: 'Tindakan', no_actions: 'Tidak ada tindakan untuk peran Anda pada status ini.',
		confirm: 'Simpan', cancel: 'Batal', saved: 'Tersimpan.', assign: 'Penugasan', assign_to: 'Tugaskan ke',
		assign_me: 'Tugaskan ke saya', unassign: 'Lepas', unassigned: '(belum ditugaskan)',
		notes: 'Catatan internal', add_note: 'Tambah catatan', note_text: 'Catatan (tidak dikirim ke warga)',
		no_notes: 'Belum ada catatan.', history: 'Riwayat', transcript: 'Percakapan', no_transcript: 'Belum ada pesan.',
		dir_in: 'Warga', dir_out: 'Pintu', required: 'wajib diisi',
		dash_title: 'Dasbor', by_state: 'Pengaduan per status', by_program: 'Pengaduan per program',
		by_kecamatan: 'Pengaduan per kecamatan', sla: 'Kepatuhan batas waktu', sla_all: 'Semua perubahan status',
		sla_resolved: 'Penyelesaian', median: 'Median waktu penyelesaian (jam) per program',
		weekly: 'Pengaduan baru per minggu', open: 'Terbuka', overdue: 'Terlambat', no_data: 'Belum ada data.',
		bc_title: 'Siaran informasi', bc_none: 'Belum ada siaran.', bc_new: 'Siaran baru', bc_text: 'Isi pesan',
		bc_text_en: 'Isi pesan (English, opsional)', bc_programs: 'Program (pisahkan dengan koma)',
		bc_kecamatan: 'Kecamatan (pisahkan dengan koma)', bc_kelurahan: 'Kelurahan (pisahkan dengan koma)',
		bc_title_field: 'Judul', bc_start: 'Mulai kirim (opsional)', bc_create: 'Buat', bc_preview: 'Pratinjau',
		bc_approve: 'Setujui', bc_send: 'Kirim sekarang', bc_pause: 'Jeda', bc_resume: 'Lanjutkan', bc_cancel: 'Batalkan',
		bc_progress: 'Kemajuan', bc_recipients: '{n} penerima', bc_unavailable: 'Fitur siaran belum tersedia.',
		error: 'Kesalahan', not_found: 'Tidak ditemukan.', forbidden: 'Peran Anda tidak boleh melakukan ini.',
		network: 'Tidak dapat menghubungi server.',
		nav_audit: 'Log audit', nav_users: 'Pengguna', users_title: 'Akun petugas', user_add: 'Tambah akun',
		full_name: 'Nama lengkap', role: 'Peran', account_state: 'Keadaan', active: 'aktif', disabled: 'nonaktif',
		disable: 'Nonaktifkan', disable_confirm: 'Nonaktifkan akun {u}? Semua sesinya berakhir.',
		password_reset: 'Atur kata sandi baru', password_new: 'Kata sandi baru', password_old: 'Kata sandi sekarang',
		password_rule: 'Minimal 10 karakter, bukan nama pengguna.', password_set: 'Kata sandi baru tersimpan; sesi akun itu berakhir.',
		password_change: 'Ganti kata sandi', password_relogin: 'Setelah itu silakan masuk lagi.',
		password_changed: 'Kata sandi diganti. Silakan masuk dengan kata sandi baru.',
		role_front_office: 'front office', role_back_office: 'back office', role_supervisor: 'supervisor', role_admin: 'admin',
		audit_title: 'Log audit', audit_action: 'Tindakan', audit_target: 'Sasaran', audit_detail: 'Rincian',
		audit_when: 'Waktu', date_from: 'Dari tanggal', date_to: 'Sampai tanggal', none_audit: 'Tidak ada catatan.',
		older: 'Lebih lama',
	},
	en: {
		nav_queue: 'Queue', nav_overdue: 'Overdue', nav_dashboard: 'Dashboard', nav_broadcasts: 'Broadcasts',
		logout: 'Log out', lang_other: 'Bahasa Indonesia', loading: 'Loading...',
		login_title: 'Staff sign-in', username: 'Username', password: 'Password', login: 'Sign in',
		login_failed: 'Sign-in failed', session_expired: 'Your session ended. Please sign in again.',
		queue_title: 'Complaint queue', overdue_title: 'Overdue complaints', search: 'Search',
		search_ph: 'Ticket number or phone', filter: 'Apply', reset: 'Clear filters',
		all: '(all)', state: 'State', program: 'Program', type: 'Type', kecamatan: 'Kecamatan',
		kelurahan: 'Kelurahan', channel: 'Channel', overdue_only: 'Overdue only',
		mine_only: 'Assigned to me', export_csv: 'Download CSV', number: 'Number', due: 'Due',
		assigned: 'Assigned', created: 'Created', updated: 'Updated', phone: 'Phone', nik: 'NIK', nik_reveal: 'Show NIK (logged)',
		total: '{n} complaints', none_found: 'No complaints.', prev: 'Previous', next: 'Next',
		late: 'overdue', escalated: 'escalated', back_to_queue: 'Back to the queue',
		ticket: 'Complaint', details: 'Details', subject: 'For', subject_self: 'self/family',
		subject_other: 'someone else', location: 'Location', description: 'Description', language: 'Language',
		dtks: 'DTKS status', dtks_registered: 'Registered in DTKS', dtks_not_registered: 'Not registered in DTKS',
		dtks_unknown: 'Unknown', referral: 'Referral', level: 'Level', level_city: 'City/regency',
		level_province: 'Province', level_national: 'National', organisation: 'Organisation',
		reference: "Partner's reference", outcome: 'Outcome', reason: 'Reason', question: 'Question for the resident',
		note: 'Note (optional)', satisfaction: 'Satisfaction', linked_to: 'Linked to',
		actions: 'Actions', no_actions: 'Your role has no actions in this state.',
		confirm: 'Save', cancel: 'Cancel', saved: 'Saved.', assign: 'Assignment', assign_to: 'Assign to',
		assign_me: 'Assign to me', unassign: 'Unassign', unassigned: '(unassigned)',
		notes: 'Internal notes', add_note: 'Add note', note_text: 'Note (never sent to the resident)',
		no_notes: 'No notes yet.', history: 'History', transcript: 'Conversation', no_transcript: 'No messages yet.',
		dir_in: 'Resident', dir_out: 'Pintu', required: 'required',
		dash_title: 'Dashboard', by_state: 'Complaints by state', by_program: 'Complaints by program',
		by_kecamatan: 'Complaints by kecamatan', sla: 'Service-level compliance', sla_all: 'All state changes',
		sla_resolved: 'Resolutions', median: 'Median time to resolution (hours) by program',
		weekly: 'New complaints per week', open: 'Open', overdue: 'Overdue', no_data: 'No data yet.',
		bc_title: 'Broadcasts', bc_none: 'No broadcasts yet.', bc_new: 'New broadcast', bc_text: 'Message',
		bc_text_en: 'Message (English, optional)', bc_programs: 'Programs (comma separated)',
		bc_kecamatan: 'Kecamatan (comma separated)', bc_kelurahan: 'Kelurahan (comma separated)',
		bc_title_field: 'Title', bc_start: 'Start sending (optional)', bc_create: 'Create', bc_preview: 'Preview',
		bc_approve: 'Approve', bc_send: 'Send now', bc_pause: 'Pause', bc_resume: 'Resume', bc_cancel: 'Cancel broadcast',
		bc_progress: 'Progress', bc_recipients: '{n} recipients', bc_unavailable: 'Broadcasts are not available yet.',
		error: 'Error', not_found: 'Not found.', forbidden: 'Your role may not do this.',
		network: 'Cannot reach the server.',
		nav_audit: 'Audit log', nav_users: 'Users', users_title: 'Staff accounts', user_add: 'Add account',
		full_name: 'Full name', role: 'Role', account_state: 'State', active: 'active', disabled: 'disabled',
		disable: 'Disable', disable_confirm: 'Disable the account {u}? All its sessions end.',
		password_reset: 'Set a new password', password_new: 'New password', password_old: 'Current password',
		password_rule: 'At least 10 characters, not the username.', password_set: "New password saved; that account's sessions ended.",
		password_change: 'Change password', password_relogin: 'Then sign in again.',
		password_changed: 'Password changed. Please sign in with the new password.',
		role_front_office: 'front office', role_back_office: 'back office', role_supervisor: 'supervisor', role_admin: 'admin',
		audit_title: 'Audit log', audit_action: 'Action', audit_target: 'Target', audit_detail: 'Detail',
		audit_when: 'When', date_from: 'From date', date_to: 'To date', none_audit: 'No entries.',
		older: 'Older',
	},
};

let lang = 'id';
try {
	const saved = localStorage.getItem('pintu_lang');
	if (saved === 'en' || saved === 'id') lang = saved;
} catch (e) { /* storage disabled: stay Indonesian */ }

export function getLang() {
	return lang;
}

export function setLang(l) {
	lang = l === 'en' ? 'en' : 'id';
	try {
		localStorage.setItem('pintu_lang', lang);
	} catch (e) { /* ignore */ }
	document.documentElement.lang = lang;
}

export function t(key, vars) {
	let s = STRINGS[lang][key] ?? STRINGS.id[key] ?? key;
	if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
	return s;
}

/** The label of an API object in the current language ({label, label_en}). */
export function label(o, base = 'label') {
	if (!o) return '';
	return (lang === 'en' && o[base + '_en']) || o[base] || '';
}
